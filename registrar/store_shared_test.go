package registrar

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// mapStore is a Shared store in memory, as two instances would see one
// database; down makes it fail.
type mapStore struct {
	mu   sync.Mutex
	rows map[string]Binding // user + "\x00" + contact key → binding
	gets int
	down bool
}

func (m *mapStore) Put(user string, put, gone []Binding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range gone {
		delete(m.rows, user+"\x00"+b.ContactKey())
	}
	for _, b := range put {
		m.rows[user+"\x00"+b.ContactKey()] = b
	}
}

func (m *mapStore) Get(_ context.Context, user string, now time.Time) ([]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.down {
		return nil, errors.New("database down")
	}
	var out []Binding
	for _, b := range m.rows {
		if b.User == user && b.Expires.After(now) {
			b.key = "" // as read back from a database
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *mapStore) calls() int { m.mu.Lock(); defer m.mu.Unlock(); return m.gets }

// TestSharedStore registers through instance A and finds the binding from
// instance B (lookup on miss), while A answers from memory; an unregister
// through A reaches B; WebSocket bindings stay with their instance; a
// failing store is not asked again for storeRetry.
func TestSharedStore(t *testing.T) {
	st := &mapStore{rows: map[string]Binding{}}
	a := newFixture(t)
	b := newFixture(t)
	b.clk = a.clk // one clock for both instances
	b.r.now = a.clk.now
	a.r.Share(st)
	b.r.Share(st)

	if res := a.do(reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10:5060>"}, source: "203.0.113.4:5070"}); res.StatusCode != 200 {
		t.Fatalf("register: %s", res)
	}
	got := b.r.Lookup("1000")
	if len(got) != 1 || got[0].Contact != "sip:1000@192.0.2.10:5060" || got[0].Source != "203.0.113.4:5070" || got[0].Transport != "UDP" {
		t.Fatalf("instance B found %+v", got)
	}
	n := st.calls()
	if len(a.r.Lookup("1000")) != 1 || st.calls() != n {
		t.Fatal("instance A did not answer from memory")
	}

	// A second contact through A, then the first one removed.
	a.do(reg{user: "1000", callID: "c2", contacts: []string{"<sip:1000@192.0.2.11:5060>"}})
	if got := b.r.Lookup("1000"); len(got) != 2 {
		t.Fatalf("instance B found %d bindings, want 2", len(got))
	}
	a.do(reg{user: "1000", cseq: 5, contacts: []string{"<sip:1000@192.0.2.10:5060>;expires=0"}})
	if got := b.r.Lookup("1000"); len(got) != 1 || got[0].Contact != "sip:1000@192.0.2.11:5060" {
		t.Fatalf("after the unregister instance B found %+v", got)
	}
	// Expired in the store: not returned.
	a.clk.add(11 * time.Minute)
	if got := b.r.Lookup("1000"); len(got) != 0 {
		t.Fatalf("expired bindings returned: %+v", got)
	}

	// A WebSocket binding is not shared.
	a.do(reg{user: "1001", contacts: []string{"<sip:x@abc.invalid;transport=ws>"}, network: "WS"})
	if len(a.r.Lookup("1001")) != 1 || len(b.r.Lookup("1001")) != 0 {
		t.Fatal("a connection-bound binding was shared")
	}

	// The store fails: nothing found, and it is left alone for a while.
	a.do(reg{user: "1000", callID: "c3", contacts: []string{"<sip:1000@192.0.2.12:5060>"}})
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	if got := b.r.Lookup("1000"); len(got) != 0 {
		t.Fatalf("a failing store gave %+v", got)
	}
	n = st.calls()
	b.r.Lookup("1000")
	if st.calls() != n {
		t.Fatal("a failed store was asked again at once")
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	a.clk.add(storeRetry + time.Second)
	if got := b.r.Lookup("1000"); len(got) != 1 {
		t.Fatalf("after the store came back instance B found %+v", got)
	}
}
