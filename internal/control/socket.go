package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"parley/internal/ediscovery"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/transport"
)

// SocketName is the control socket's file name in the data directory.
const SocketName = "control.sock"

// SocketPath is the control socket of the server with data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// The socket carries one JSON request and one JSON response per
// connection.
const (
	maxRequest     = 64 << 10
	requestTimeout = 2 * time.Minute // a password derivation, a store write
)

// Request is one operation: Op is user.add, user.passwd, user.del,
// user.list or room.destroy.
type Request struct {
	Op       string `json:"op"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	Bot      bool   `json:"bot,omitempty"` // user.add: a bot account
	Room     string `json:"room,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Token operations (requests.go).
	Role    string    `json:"role,omitempty"`
	Name    string    `json:"name,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	ID      string    `json:"id,omitempty"`
	// E-discovery (ediscovery.go).
	Query  *ediscovery.Query `json:"query,omitempty"`
	Cursor string            `json:"cursor,omitempty"`
	Limit  int               `json:"limit,omitempty"`
	// Hold is the hold to create (holds.go); after hold.create or
	// hold.release, the hold as stored (for Done).
	Hold *store.LegalHold `json:"hold,omitempty"`
}

// Response is its result.
type Response struct {
	Error    string   `json:"error,omitempty"`
	NotFound bool     `json:"not_found,omitempty"` // Error is store.ErrNotFound
	Exists   bool     `json:"exists,omitempty"`    // Error is store.ErrExists
	Users    []string `json:"users,omitempty"`
	Ended    int      `json:"ended,omitempty"` // sessions ended
	// Token and suspension operations (requests.go).
	Token   string           `json:"token,omitempty"` // shown once
	Tokens  []store.APIToken `json:"tokens,omitempty"`
	Revoked int              `json:"revoked,omitempty"` // tokens revoked
	// E-discovery (ediscovery.go).
	Page *ediscovery.Page `json:"page,omitempty"`
	Jobs []ediscovery.Job `json:"jobs,omitempty"`
	// Legal holds (holds.go).
	Holds []store.LegalHold `json:"holds,omitempty"`
}

// Listen opens the control socket of data directory dir, owner-only
// (0600; the directory is 0700 too). A socket file left by a server that
// died is replaced; one that answers belongs to a running server, which
// is an error.
func Listen(dir string) (net.Listener, error) {
	path := SocketPath(dir)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%w on %s (its socket %s answers)", ErrRunning, dir, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	return ln, nil
}

// Serve answers requests on ln with ops until ln is closed, and waits for
// the requests under way.
func Serve(ln net.Listener, ops *Ops, log *slog.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	return transport.Serve(ln, func(c net.Conn) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(requestTimeout))
			var req Request
			if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
				json.NewEncoder(c).Encode(Response{Error: "bad request: " + err.Error()})
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			resp := ops.Do(ctx, req)
			log.Info("control request", "op", req.Op, "user", req.User, "room", req.Room, "err", resp.Error, "ended", resp.Ended)
			json.NewEncoder(c).Encode(resp)
		}()
	})
}

// Do runs one request.
func (o *Ops) Do(ctx context.Context, req Request) Response {
	var resp Response
	var err error
	switch req.Op {
	case "user.add":
		err = o.AddAccount(ctx, req.User, req.Password, req.Bot)
	case "user.passwd":
		resp.Ended, err = o.SetPassword(ctx, req.User, req.Password, jid.JID{})
	case "user.del":
		resp.Ended, err = o.DeleteUser(ctx, req.User)
	case "user.list":
		resp.Users, err = o.ListUsers(ctx)
	case "room.destroy":
		var room jid.JID
		if room, err = jid.Parse(req.Room); err == nil {
			err = o.DestroyRoom(ctx, room, req.Reason)
		}
	default:
		err = o.doMore(ctx, &req, &resp)
	}
	if err != nil {
		resp.Error = err.Error()
		resp.NotFound = errors.Is(err, store.ErrNotFound)
		resp.Exists = errors.Is(err, store.ErrExists)
	} else if o.Done != nil && req.Op != "user.list" {
		o.Done(req)
	}
	return resp
}

// ErrRunning means another server uses the data directory.
var ErrRunning = errors.New("control: a server already runs")

// ErrNoServer means no server answers on the control socket.
var ErrNoServer = errors.New("control: no server runs")

// Call sends req to the server with data directory dir. It returns
// ErrNoServer (wrapped) when none answers, so the caller can act on the
// store itself; an operation that failed is an error that matches
// store.ErrNotFound or store.ErrExists where it was one.
func Call(ctx context.Context, dir string, req Request) (Response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", SocketPath(dir))
	if err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrNoServer, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(requestTimeout))
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("control: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(c, 16<<20)).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("control: reading the answer: %w", err)
	}
	return resp, resp.Err()
}

// Err is the operation's error: nil, or one that matches store.ErrNotFound
// or store.ErrExists where it was one.
func (r Response) Err() error {
	switch {
	case r.NotFound:
		return fmt.Errorf("%s: %w", r.Error, store.ErrNotFound)
	case r.Exists:
		return fmt.Errorf("%s: %w", r.Error, store.ErrExists)
	case r.Error != "":
		return errors.New(r.Error)
	}
	return nil
}
