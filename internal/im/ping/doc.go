// Package ping answers XEP-0199 XMPP Ping addressed to the server's domain
// or, on their behalf, to local accounts' bare JIDs.
//
// A ping to a full JID reaches the client itself (the router delivers it);
// only the server's own answer lives here.
package ping
