// Package offline keeps messages for users without an available resource
// (XEP-0160, Best Practices for Handling Offline Messages) and stamps them
// with the time of storage (XEP-0203, Delayed Delivery).
//
// A Module is the router's Offline store. Messages are delivered when a
// session of the user sends initial presence with a non-negative priority
// (XEP-0160 §3), through the presence handler's OnInitialPresence hook.
package offline
