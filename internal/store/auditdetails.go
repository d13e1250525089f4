package store

import (
	"encoding/json"
	"fmt"
)

// EncodeAuditDetails is an audit record's details as both backends store
// them: "" for none, else a JSON object (keys sorted by encoding/json).
func EncodeAuditDetails(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// DecodeAuditDetails reads back what EncodeAuditDetails stored.
func DecodeAuditDetails(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var d map[string]string
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, fmt.Errorf("details: %w", err)
	}
	return d, nil
}
