package imtest

import (
	"context"
	"sync"

	"parley/internal/store"
)

// Users is store.Users in memory, and the router's Accounts.
type Users struct {
	mu sync.Mutex // guards m
	m  map[string]store.User
}

// NewUsers holds an account without keys for each name.
func NewUsers(names ...string) *Users {
	s := &Users{m: map[string]store.User{}}
	for _, n := range names {
		s.m[n] = store.User{Username: n}
	}
	return s
}

// Put stores u, replacing an account of the same name.
func (s *Users) Put(u store.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[u.Username] = u
}

// User returns name's account, if there is one.
func (s *Users) User(name string) (store.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.m[name]
	return u, ok
}

func (s *Users) CreateUser(_ context.Context, u store.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[u.Username]; ok {
		return store.ErrExists
	}
	s.m[u.Username] = u
	return nil
}

func (s *Users) GetUser(_ context.Context, name string) (store.User, error) {
	if u, ok := s.User(name); ok {
		return u, nil
	}
	return store.User{}, store.ErrNotFound
}

func (s *Users) SetUserDisabled(_ context.Context, name string, disabled bool) error {
	return s.change(name, func(u *store.User) { u.Disabled = disabled })
}

func (s *Users) SetUserKeys(_ context.Context, name string, k1, k256 store.ScramKeys) error {
	return s.change(name, func(u *store.User) { u.SHA1, u.SHA256 = k1, k256 })
}

func (s *Users) change(name string, f func(*store.User)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.m[name]
	if !ok {
		return store.ErrNotFound
	}
	f(&u)
	s.m[name] = u
	return nil
}

func (s *Users) DeleteUser(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[name]; !ok {
		return store.ErrNotFound
	}
	delete(s.m, name)
	return nil
}

func (s *Users) ListUsers(context.Context) ([]string, error) { return nil, nil }

// Exists makes Users the router's Accounts.
func (s *Users) Exists(_ context.Context, name string) (bool, error) {
	_, ok := s.User(name)
	return ok, nil
}
