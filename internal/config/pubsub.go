package config

import "fmt"

// PubSub configures the publish-subscribe service (XEP-0060) on
// pubsub.<domain>; its item and node limits are the PEP keys of
// [quotas].
type PubSub struct {
	// Create says who may create nodes (XEP-0060 §8.1): "local"
	// (accounts of this server, the default) or "anyone". Others get
	// <forbidden/>.
	Create string `toml:"create"`
}

// Values of PubSub.Create.
const (
	PubSubCreateLocal  = "local"
	PubSubCreateAnyone = "anyone"
)

func (p *PubSub) validate() []error {
	switch p.Create {
	case PubSubCreateLocal, PubSubCreateAnyone:
		return nil
	}
	return []error{&KeyError{Key: "pubsub.create", Msg: fmt.Sprintf("%q is not local or anyone", p.Create)}}
}
