package pubsub

import (
	"context"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/rsm"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// discoInfo answers §5.1 (the service) and §5.3 (a node, with its
// meta-data, §5.4).
func (m *Module) discoInfo(ctx context.Context, from jid.JID, name string) (*xmlstream.Element, error) {
	q := xmlstream.New("query", NSDiscoInfo)
	if name == "" {
		q.Add(xmlstream.New("identity", NSDiscoInfo, "category", "pubsub", "type", "service", "name", "Publish-Subscribe"))
		for _, f := range Features() {
			q.Add(xmlstream.New("feature", NSDiscoInfo, "var", f))
		}
		return q, nil
	}
	n, err := m.load(ctx, name)
	if err != nil {
		return nil, err
	}
	q.Set("node", name)
	q.Add(xmlstream.New("identity", NSDiscoInfo, "category", "pubsub", "type", "leaf"))
	q.Add(xmlstream.New("feature", NSDiscoInfo, "var", NS))
	owners := dataform.NewField("pubsub#owner", dataform.JIDMulti, "Node owners")
	for _, o := range n.owners() {
		owners.Values = append(owners.Values, o.String())
	}
	q.Add(dataform.New("result", NSMetaData,
		dataform.NewField("pubsub#title", dataform.TextSingle, "Title", n.Title),
		dataform.NewField("pubsub#access_model", dataform.ListSingle, "Access model", n.AccessModel),
		dataform.NewField("pubsub#publish_model", dataform.ListSingle, "Publish model", n.publishModel()),
		owners).Element())
	return q, nil
}

// discoItems answers §5.2 (the service's nodes the requester may see)
// and §5.5 (a node's items, as its access model allows).
// The service's nodes are paged with result sets (XEP-0059; 100 unasked,
// as the domain's disco#items).
func (m *Module) discoItems(ctx context.Context, from jid.JID, name string, set *xmlstream.Element) (*xmlstream.Element, error) {
	q := xmlstream.New("query", NSDiscoItems)
	if name == "" {
		rq, err := rsm.Parse(set, rsm.Limits{})
		if err != nil {
			return nil, err
		}
		nodes, err := m.visible(ctx, from)
		if err != nil {
			return nil, err
		}
		page, rep, err := rsm.Page(nodes, rq, rsm.DefaultMax, func(n store.PubSubNode) string { return n.Node })
		if err != nil {
			return nil, err
		}
		defer func() {
			if set != nil || len(page) < len(nodes) {
				q.Add(rep.Element())
			}
		}()
		for _, sn := range page {
			var c Config
			_ = c.Unmarshal(sn.Config)
			it := xmlstream.New("item", NSDiscoItems, "jid", m.Addr.String(), "node", sn.Node)
			if c.Title != "" {
				it.Set("name", c.Title)
			}
			q.Add(it)
		}
		return q, nil
	}
	if err := m.readable(ctx, from, name); err != nil {
		return nil, err
	}
	q.Set("node", name)
	sizes, err := m.Store.PubSubItemSizes(ctx, m.Addr.String(), name)
	if err != nil {
		return nil, err
	}
	for _, it := range sizes {
		q.Add(xmlstream.New("item", NSDiscoItems, "jid", m.Addr.String(), "name", it.ID))
	}
	return q, nil
}

// visible are the service's nodes a requester may discover (§5.2): all
// but whitelist nodes it is not affiliated with, and those it is an
// outcast of; an owner sees its own.
func (m *Module) visible(ctx context.Context, from jid.JID) ([]store.PubSubNode, error) {
	nodes, err := m.Store.PubSubNodes(ctx, m.Addr.String())
	if err != nil {
		return nil, err
	}
	mine, err := m.AffiliationsOf(ctx, from)
	if err != nil {
		return nil, err
	}
	out := nodes[:0]
	for _, sn := range nodes {
		var c Config
		_ = c.Unmarshal(sn.Config)
		aff, ok := mine[sn.Node]
		switch {
		case aff == store.AffiliationOutcast:
		case c.AccessModel == AccessWhitelist && !ok:
		default:
			out = append(out, sn)
		}
	}
	return out, nil
}
