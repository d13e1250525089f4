package config

// Quotas bound what one account or one session may keep on the server
// (docs/SECURITY.md). Zero means the documented default of the module
// that enforces it, so a file that leaves a key out keeps the default.
type Quotas struct {
	// DirectedPresence is how many entities one session may have sent
	// directed available presence to at once (RFC 6121 §4.6); beyond it
	// directed presence is refused with policy-violation.
	DirectedPresence int `toml:"directed_presence"`

	// Personal eventing (XEP-0163): the largest item payload in bytes
	// (default 128 KiB), the most items a node keeps (1000), the most
	// nodes per account (1000), the payload bytes per account (16 MiB),
	// and the largest items reply, beyond which replies are paged
	// (512 KiB).
	PEPItemBytes  int   `toml:"pep_item_bytes"`
	PEPNodeItems  int   `toml:"pep_node_items"`
	PEPNodes      int   `toml:"pep_nodes"`
	PEPBytes      int64 `toml:"pep_bytes"`
	PEPReplyBytes int   `toml:"pep_reply_bytes"`

	// Private XML storage (XEP-0049): the elements one account keeps
	// (default 256) and their bytes (1 MiB).
	PrivateKeys  int   `toml:"private_keys"`
	PrivateBytes int64 `toml:"private_bytes"`

	// Entity capabilities (XEP-0115) looked up at once (default 256; more
	// wait in a queue), and per account (4): vers one account's sessions
	// may have looked up or queued at once.
	CapsDiscoveries        int `toml:"caps_discoveries"`
	CapsAccountDiscoveries int `toml:"caps_account_discoveries"`
}

func (q *Quotas) validate() []error {
	var errs []error
	notNegative(&errs, "quotas.directed_presence", q.DirectedPresence)
	notNegative(&errs, "quotas.pep_item_bytes", q.PEPItemBytes)
	notNegative(&errs, "quotas.pep_node_items", q.PEPNodeItems)
	notNegative(&errs, "quotas.pep_nodes", q.PEPNodes)
	notNegative(&errs, "quotas.pep_bytes", q.PEPBytes)
	notNegative(&errs, "quotas.pep_reply_bytes", q.PEPReplyBytes)
	notNegative(&errs, "quotas.private_keys", q.PrivateKeys)
	notNegative(&errs, "quotas.private_bytes", q.PrivateBytes)
	notNegative(&errs, "quotas.caps_discoveries", q.CapsDiscoveries)
	notNegative(&errs, "quotas.caps_account_discoveries", q.CapsAccountDiscoveries)
	return errs
}
