// Package storetest is the conformance suite every store backend must pass,
// so that SQLite and PostgreSQL behave the same and nothing above the store
// can tell which one it talks to. A backend's test calls Run with a function
// that opens a fresh, empty store.
//
// Beyond what the store package's comments state, the suite pins down these
// behaviours, which callers rely on:
//   - Writes that would create data for an account that does not exist
//     (roster items, offline messages, vCards, private XML, block list
//     entries) fail with store.ErrNotFound and leave no trace.
//   - Reads of collections for an unknown user return nothing and no error;
//     reads of single things return store.ErrNotFound.
//   - A zero User.Created or OfflineMessage.Stamp is stored as the time of
//     the call; other times round-trip to the microsecond.
//   - Groups are returned sorted and unique whatever order was stored.
//   - A roster version never goes back, even across deleting and creating
//     the account again (RFC 6121 §2.6.1: a version names one roster state).
//   - Block lists and user lists come back in ascending byte order.
package storetest
