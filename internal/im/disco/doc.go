// Package disco answers XEP-0030 Service Discovery for the server's domain
// and, on their behalf, for local accounts' bare JIDs.
//
// The domain's features are read from the router at request time, so a
// module that registers later is advertised without telling disco; the
// list is sorted and deduplicated because clients and XEP-0115 hashing
// expect a stable answer. Items of the domain (components such as a MUC
// service) are added by the wiring code with AddItem, since the router
// keeps its component table to itself.
package disco
