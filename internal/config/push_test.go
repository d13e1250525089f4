package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidatePush(t *testing.T) {
	c := Default()
	c.Push = Push{MinInterval: Duration{-time.Second}, MaxDevices: -1}
	err := c.Validate()
	for _, key := range []string{"push.min_interval", "push.max_devices"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate: %v, want an error naming %s", err, key)
		}
	}
	c.Push = Push{IncludeBody: true, MinInterval: Duration{time.Minute}, MaxDevices: 3}
	if err := c.Validate(); err != nil {
		t.Fatalf("a valid [push]: %v", err)
	}
}
