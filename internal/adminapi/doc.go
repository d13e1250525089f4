// Package adminapi is parley's admin REST API: JSON under /api/v1,
// described by an OpenAPI 3.1 document, for operators' scripts and tools.
// Callers authenticate with bearer tokens (RFC 6750) that carry one role;
// the store keeps only their hashes. Every route calls the same operator
// operations as the command line (internal/control), never a second code
// path; refusals and changes are written to the audit log.
package adminapi
