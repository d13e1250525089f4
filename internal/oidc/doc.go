// Package oidc logs people in through an OpenID Connect provider
// (OpenID Connect Core 1.0): the authorization code flow (§3.1) with PKCE
// (RFC 7636, S256), the provider found by discovery (OpenID Connect
// Discovery 1.0) and its signing keys read from its JWKS as they rotate.
// Each login keeps its state, nonce and PKCE verifier here, server-side,
// for a few minutes and once; the ID token's signature, issuer, audience,
// expiry and nonce are checked, and its claims name the account and the
// provider's groups, which the configured mapping turns into parley roles.
//
// What a login then gets (API tokens, FAST tokens) is the caller's
// business (internal/adminapi, docs/design/26_oidc.md). Built on
// github.com/coreos/go-oidc/v3 and golang.org/x/oauth2.
package oidc
