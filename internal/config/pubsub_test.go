package config

import (
	"errors"
	"testing"
)

// TestPubSubCreate: [pubsub] create is local by default and only local or
// anyone validate.
func TestPubSubCreate(t *testing.T) {
	c := Default()
	if c.PubSub.Create != PubSubCreateLocal {
		t.Fatalf("default create %q", c.PubSub.Create)
	}
	for _, v := range []string{PubSubCreateLocal, PubSubCreateAnyone} {
		c.PubSub.Create = v
		if errs := c.PubSub.validate(); len(errs) != 0 {
			t.Fatalf("%q: %v", v, errs)
		}
	}
	c.PubSub.Create = "admins"
	errs := c.PubSub.validate()
	var ke *KeyError
	if len(errs) != 1 || !errors.As(errs[0], &ke) || ke.Key != "pubsub.create" {
		t.Fatalf("admins: %v", errs)
	}
}
