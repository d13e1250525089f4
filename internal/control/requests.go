package control

import (
	"context"
	"fmt"
	"strings"

	"parley/internal/store"
)

// doMore runs the requests beyond the account basics of Do: suspension,
// tokens and legal holds.
// A token created gets its ID and role set in req, for Done.
func (o *Ops) doMore(ctx context.Context, req *Request, resp *Response) error {
	var err error
	switch req.Op {
	case "user.suspend":
		var s Suspension
		s, err = o.Suspend(ctx, req.User)
		resp.Ended, resp.Revoked = s.Ended, s.Tokens
	case "user.resume":
		err = o.Resume(ctx, req.User)
	case "token.create":
		var t store.APIToken
		resp.Token, t, err = o.CreateToken(ctx, req.Role, req.Name, req.User, req.Expires)
		if err == nil {
			req.ID = t.ID
			t.Hash = nil // the caller has no use for it
			resp.Tokens = []store.APIToken{t}
		}
	case "token.list":
		resp.Tokens, err = o.ListTokens(ctx)
		for i := range resp.Tokens {
			resp.Tokens[i].Hash = nil
		}
	case "token.revoke":
		err = o.RevokeToken(ctx, req.ID)
	case "hold.create", "hold.release":
		var h store.LegalHold
		if req.Op == "hold.create" {
			if req.Hold == nil {
				return fmt.Errorf("%w: hold.create without a hold", ErrBadHold)
			}
			h, err = o.CreateHold(ctx, *req.Hold, "cli")
		} else {
			var id int64
			if id, err = ParseHoldID(req.ID); err == nil {
				h, err = o.ReleaseHold(ctx, id, "cli")
			}
		}
		if err == nil {
			req.Hold, resp.Holds = &h, []store.LegalHold{h}
		}
	case "hold.list":
		resp.Holds, err = o.ListHolds(ctx)
	default:
		if strings.HasPrefix(req.Op, "ediscovery.") {
			return o.doEdiscovery(ctx, req, resp)
		}
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	return err
}
