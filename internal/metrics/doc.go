// Package metrics holds parley's Prometheus collectors on a registry of its
// own (not the global default), so tests and several servers in one process
// do not collide, and nothing registers itself from init. Other packages
// record through plain methods (Session, StanzaIn, ...) and never import
// Prometheus; the HTTP layer mounts Handler at /metrics.
package metrics
