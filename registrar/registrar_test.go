package registrar

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/auth"
)

// fakeTx is a sip.ServerTransaction that records responses.
type fakeTx struct {
	mu   sync.Mutex
	res  []*sip.Response
	done chan struct{}
}

var _ sip.ServerTransaction = (*fakeTx)(nil)

func newFakeTx() *fakeTx                             { return &fakeTx{done: make(chan struct{})} }
func (f *fakeTx) Terminate()                         {}
func (f *fakeTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (f *fakeTx) Done() <-chan struct{}              { return f.done }
func (f *fakeTx) Err() error                         { return nil }
func (f *fakeTx) Acks() <-chan *sip.Request          { return nil }
func (f *fakeTx) OnCancel(sip.FnTxCancel) bool       { return false }
func (f *fakeTx) Respond(r *sip.Response) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res = append(f.res, r)
	return nil
}

func (f *fakeTx) last(t *testing.T) *sip.Response {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.res) != 1 {
		t.Fatalf("%d responses, want 1", len(f.res))
	}
	return f.res[0]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var passwords = map[string]string{"1000": "pw-1000", "1001": "pw-1001"}

type fixture struct {
	t   *testing.T
	clk *clock
	a   *auth.Authenticator
	r   *Registrar
	dir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, clk: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	f.a = auth.New("pbx.example.com", func(u string) (string, bool) { p, ok := passwords[u]; return p, ok }, 5*time.Minute, f.clk.now)
	f.open()
	t.Cleanup(func() { f.r.Close() })
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	r, err := New(Config{StateDir: f.dir, Domain: "pbx.example.com", MinExpires: 60, MaxExpires: 3600, DefaultExpires: 600, SweepInterval: -1},
		f.a, f.clk.now, slog.New(slog.DiscardHandler))
	if err != nil {
		f.t.Fatal(err)
	}
	f.r = r
}

// reg describes one REGISTER.
type reg struct {
	user     string // To/From user
	authUser string // digest user (default user)
	password string // default the user's
	callID   string // default "call-<user>"
	cseq     int    // default 1
	contacts []string
	extra    []string // extra header lines
	source   string   // default 192.0.2.10:5060
	noAuth   bool     // send once, without answering the challenge
	network  string   // transport it arrived on, default UDP
}

func (f *fixture) build(g reg, cseq int) *sip.Request {
	f.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:pbx.example.com SIP/2.0\r\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%d\r\n", cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nTo: <sip:%s@pbx.example.com>\r\nFrom: <sip:%s@pbx.example.com>;tag=f1\r\n", g.user, g.user)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d REGISTER\r\nUser-Agent: test-phone\r\n", g.callID, cseq)
	for _, c := range g.contacts {
		fmt.Fprintf(&b, "Contact: %s\r\n", c)
	}
	for _, e := range g.extra {
		fmt.Fprintf(&b, "%s\r\n", e)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	m, err := sip.ParseMessage([]byte(b.String()))
	if err != nil {
		f.t.Fatalf("parse: %v\n%s", err, b.String())
	}
	req := m.(*sip.Request)
	req.SetSource(g.source)
	req.SetTransport("UDP")
	if g.network != "" {
		req.SetTransport(g.network)
	}
	return req
}

// do sends g, answers the challenge with g's credentials and returns the
// final response.
func (f *fixture) do(g reg) *sip.Response {
	f.t.Helper()
	if g.authUser == "" {
		g.authUser = g.user
	}
	if g.password == "" {
		g.password = passwords[g.authUser]
	}
	if g.callID == "" {
		g.callID = "call-" + g.user
	}
	if g.cseq == 0 {
		g.cseq = 1
	}
	if g.source == "" {
		g.source = "192.0.2.10:5060"
	}
	req := f.build(g, g.cseq)
	tx := newFakeTx()
	f.r.HandleRegister(req, tx)
	res := tx.last(f.t)
	if g.noAuth || res.StatusCode != 401 {
		return res
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		if c, err := digest.ParseChallenge(h.Value()); err == nil && c.Algorithm == "SHA-256" {
			chal = c
		}
	}
	if chal == nil {
		f.t.Fatalf("401 without SHA-256 challenge: %s", res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:pbx.example.com", Username: g.authUser, Password: g.password, Count: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	req = f.build(g, g.cseq+1)
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	tx = newFakeTx()
	f.r.HandleRegister(req, tx)
	return tx.last(f.t)
}

// contactExpires maps each Contact URI of a 200 to its expires parameter.
func contactExpires(t *testing.T, res *sip.Response) map[string]string {
	t.Helper()
	m := make(map[string]string)
	for _, h := range res.GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		e, _ := c.Params.Get("expires")
		m[c.Address.String()] = e
	}
	return m
}

func TestRegisterFlow(t *testing.T) {
	f := newFixture(t)
	// Without credentials: a challenge, nothing bound.
	res := f.do(reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10:5060>"}, noAuth: true})
	if res.StatusCode != 401 || len(res.GetHeaders("WWW-Authenticate")) != 2 {
		t.Fatalf("first response: %s", res)
	}
	if len(f.r.Lookup("1000")) != 0 {
		t.Fatal("bound without authentication")
	}
	res = f.do(reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10:5060>"}, extra: []string{"Expires: 300"}, source: "198.51.100.7:40000"})
	if res.StatusCode != 200 {
		t.Fatalf("register: %s", res)
	}
	if got := contactExpires(t, res); got["sip:1000@192.0.2.10:5060"] != "300" || len(got) != 1 {
		t.Errorf("200 contacts %v", got)
	}
	if d := res.GetHeader("Date"); d == nil || d.Value() != "Sat, 01 Mar 2025 12:00:00 GMT" {
		t.Errorf("Date = %v", d)
	}
	bs := f.r.Lookup("1000")
	want := Binding{User: "1000", Contact: "sip:1000@192.0.2.10:5060", Source: "198.51.100.7:40000", Transport: "UDP",
		Expires: f.clk.now().Add(300 * time.Second), Q: 1, CallID: "call-1000", CSeq: 2, UserAgent: "test-phone", Updated: f.clk.now()}
	if len(bs) != 1 {
		t.Fatalf("bindings %+v", bs)
	}
	bs[0].key = ""
	if bs[0] != want {
		t.Errorf("binding\n got %+v\nwant %+v", bs[0], want)
	}
}

func TestRegisterOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		g      reg
		status int
		check  func(t *testing.T, res *sip.Response)
	}{
		{name: "too brief header", status: 423,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>"}, extra: []string{"Expires: 30"}},
			check: func(t *testing.T, res *sip.Response) {
				if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
					t.Errorf("Min-Expires = %v", h)
				}
			}},
		{name: "too brief param", status: 423,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>;expires=59"}, extra: []string{"Expires: 600"}}},
		{name: "param beats header", status: 200,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>;expires=120"}, extra: []string{"Expires: 30"}},
			check: func(t *testing.T, res *sip.Response) {
				if got := contactExpires(t, res)["sip:1000@192.0.2.10"]; got != "120" {
					t.Errorf("expires %s", got)
				}
			}},
		{name: "clamped to max", status: 200,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>"}, extra: []string{"Expires: 99999999999"}},
			check: func(t *testing.T, res *sip.Response) {
				if got := contactExpires(t, res)["sip:1000@192.0.2.10"]; got != "3600" {
					t.Errorf("expires %s", got)
				}
			}},
		{name: "default expires", status: 200,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>"}},
			check: func(t *testing.T, res *sip.Response) {
				if got := contactExpires(t, res)["sip:1000@192.0.2.10"]; got != "600" {
					t.Errorf("expires %s", got)
				}
			}},
		{name: "other user's AOR", status: 403,
			g: reg{user: "1001", authUser: "1000", contacts: []string{"<sip:1001@192.0.2.10>"}}},
		{name: "wrong password", status: 401,
			g: reg{user: "1000", password: "guess", contacts: []string{"<sip:1000@192.0.2.10>"}}},
		{name: "require", status: 420,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>"}, extra: []string{"Require: gruu"}},
			check: func(t *testing.T, res *sip.Response) {
				if h := res.GetHeader("Unsupported"); h == nil || h.Value() != "gruu" {
					t.Errorf("Unsupported = %v", h)
				}
			}},
		{name: "bad expires", status: 400,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>"}, extra: []string{"Expires: soon"}}},
		{name: "bad q", status: 400,
			g: reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>;q=1.5"}}},
		{name: "star without expires 0", status: 400,
			g: reg{user: "1000", contacts: []string{"*"}, extra: []string{"Expires: 60"}}},
		{name: "star without expires", status: 400,
			g: reg{user: "1000", contacts: []string{"*"}}},
		{name: "star with other contact", status: 400,
			g: reg{user: "1000", contacts: []string{"*", "<sip:1000@192.0.2.10>"}, extra: []string{"Expires: 0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.do(tt.g)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.StatusCode, tt.status, res)
			}
			if tt.status != 200 && len(f.r.Lookup(tt.g.user)) != 0 {
				t.Errorf("failed request left bindings: %+v", f.r.Lookup(tt.g.user))
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestMultipleContactsAndUnregister(t *testing.T) {
	f := newFixture(t)
	res := f.do(reg{user: "1000", callID: "c1", contacts: []string{
		"<sip:1000@192.0.2.10:5060>;q=0.5",
		"<sip:1000@192.0.2.11:5060;transport=tcp>;q=0.9, <sip:1000@192.0.2.12>",
	}})
	if res.StatusCode != 200 || len(contactExpires(t, res)) != 3 {
		t.Fatalf("register: %s", res)
	}
	var order []string
	for _, b := range f.r.Lookup("1000") {
		order = append(order, b.Contact)
	}
	want := "sip:1000@192.0.2.12 sip:1000@192.0.2.11:5060;transport=tcp sip:1000@192.0.2.10:5060"
	if strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s", order, want)
	}
	// A second device (another Call-ID) adds a binding; same URI with
	// another case of host is the same binding (RFC 3261 §19.1.4).
	f.clk.add(10 * time.Second)
	if res := f.do(reg{user: "1000", callID: "c2", contacts: []string{"<sip:1000@192.0.2.12>;expires=100"}}); res.StatusCode != 200 {
		t.Fatal(res)
	}
	if n := len(f.r.Lookup("1000")); n != 3 {
		t.Errorf("%d bindings after refresh from another Call-ID, want 3", n)
	}
	// Unregister one contact.
	f.clk.add(10 * time.Second)
	res = f.do(reg{user: "1000", callID: "c1", cseq: 10, contacts: []string{"<sip:1000@192.0.2.10:5060>;expires=0"}})
	if res.StatusCode != 200 {
		t.Fatal(res)
	}
	got := contactExpires(t, res)
	if _, still := got["sip:1000@192.0.2.10:5060"]; still || len(got) != 2 {
		t.Errorf("after unregister: %v", got)
	}
	// Fetch: no Contact, remaining expires counted down.
	f.clk.add(40 * time.Second)
	res = f.do(reg{user: "1000", callID: "c3"})
	got = contactExpires(t, res)
	if res.StatusCode != 200 || got["sip:1000@192.0.2.12"] != "50" || got["sip:1000@192.0.2.11:5060;transport=tcp"] != "540" {
		t.Errorf("fetch: %d %v", res.StatusCode, got)
	}
	// Remove all with "*".
	res = f.do(reg{user: "1000", callID: "c4", contacts: []string{"*"}, extra: []string{"Expires: 0"}})
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 0 || len(f.r.Lookup("1000")) != 0 {
		t.Errorf("after *: %s / %v", res, f.r.Lookup("1000"))
	}
}

func TestCSeqOrdering(t *testing.T) {
	f := newFixture(t)
	c := []string{"<sip:1000@192.0.2.10>"}
	if res := f.do(reg{user: "1000", callID: "x", cseq: 10, contacts: c}); res.StatusCode != 200 {
		t.Fatal(res)
	}
	// The stored CSeq is 11 (the authenticated retry). Same Call-ID, lower: 500.
	steps := []struct {
		callID string
		cseq   int // the authenticated request carries cseq+1
		want   int
	}{
		{"x", 5, 500},
		{"x", 10, 500}, // 11 again
		{"x", 11, 200}, // 12
		{"y", 1, 200},  // another Call-ID: any CSeq
	}
	for i, s := range steps {
		res := f.do(reg{user: "1000", callID: s.callID, cseq: s.cseq, contacts: c})
		if res.StatusCode != s.want {
			t.Errorf("step %d: %d, want %d", i, res.StatusCode, s.want)
		}
	}
	// "*" with the stored Call-ID and an old CSeq fails too.
	if res := f.do(reg{user: "1000", callID: "y", cseq: 0, contacts: []string{"*"}, extra: []string{"Expires: 0"}}); res.StatusCode != 500 {
		t.Errorf("* out of order: %d", res.StatusCode)
	}
}

func TestExpiryAndSweep(t *testing.T) {
	f := newFixture(t)
	f.do(reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>;expires=60"}})
	f.do(reg{user: "1001", contacts: []string{"<sip:1001@192.0.2.20>;expires=120"}})
	f.clk.add(60 * time.Second)
	if bs := f.r.Lookup("1000"); len(bs) != 0 {
		t.Errorf("expired binding returned: %+v", bs)
	}
	if bs := f.r.Lookup("1001"); len(bs) != 1 {
		t.Errorf("live binding missing")
	}
	if n := f.r.Sweep(); n != 1 {
		t.Errorf("swept %d, want 1", n)
	}
	if n := len(f.r.Bindings()); n != 1 {
		t.Errorf("%d bindings left", n)
	}
}

func TestMaxContacts(t *testing.T) {
	f := newFixture(t)
	f.r.SetLimits(Config{MinExpires: 60, MaxExpires: 3600, DefaultExpires: 600, MaxContacts: 2})
	for i := 0; i < 3; i++ {
		f.clk.add(time.Second)
		res := f.do(reg{user: "1000", callID: fmt.Sprint("d", i), contacts: []string{fmt.Sprintf("<sip:1000@192.0.2.%d>", 10+i)}})
		if res.StatusCode != 200 {
			t.Fatal(res)
		}
	}
	var got []string
	for _, b := range f.r.Lookup("1000") {
		got = append(got, b.Contact)
	}
	if strings.Join(got, " ") != "sip:1000@192.0.2.12 sip:1000@192.0.2.11" {
		t.Errorf("bindings %v: the oldest should have been replaced", got)
	}
	if res := f.do(reg{user: "1000", callID: "z", contacts: []string{"<sip:1000@a>", "<sip:1000@b>", "<sip:1000@c>"}}); res.StatusCode != 403 {
		t.Errorf("3 contacts in one request with max 2: %d", res.StatusCode)
	}
}

func TestPersistence(t *testing.T) {
	f := newFixture(t)
	f.do(reg{user: "1000", contacts: []string{"<sip:1000@192.0.2.10>;expires=600"}, source: "198.51.100.7:40000"})
	f.do(reg{user: "1001", contacts: []string{"<sip:1001@192.0.2.20>;expires=60"}})
	before := f.r.Lookup("1000")
	if err := f.r.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "bindings.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	f.clk.add(61 * time.Second) // 1001's binding expires while down
	f.open()
	after := f.r.Lookup("1000")
	if len(after) != 1 || after[0].Source != before[0].Source || !after[0].Expires.Equal(before[0].Expires) || after[0].CSeq != before[0].CSeq {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	if bs := f.r.Lookup("1001"); len(bs) != 0 {
		t.Errorf("expired binding restored: %+v", bs)
	}
	// The restored binding still enforces CSeq ordering and can be removed.
	if res := f.do(reg{user: "1000", cseq: 0, contacts: []string{"<sip:1000@192.0.2.10>;expires=0"}}); res.StatusCode != 500 {
		t.Errorf("stale CSeq after restart: %d", res.StatusCode)
	}
	if res := f.do(reg{user: "1000", cseq: 5, contacts: []string{"<sip:1000@192.0.2.10>;expires=0"}}); res.StatusCode != 200 || len(f.r.Lookup("1000")) != 0 {
		t.Errorf("unregister after restart: %d", res.StatusCode)
	}
	if err := f.r.Close(); err != nil {
		t.Fatal(err)
	}
	var doc fileDoc
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Bindings) != 0 {
		t.Errorf("file after unregister: %v %s", err, data)
	}
	f.open()
}

func TestCorruptFileMovedAside(t *testing.T) {
	f := newFixture(t)
	f.r.Close()
	path := filepath.Join(f.dir, "bindings.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.open()
	if len(f.r.Bindings()) != 0 {
		t.Error("bindings from a corrupt file")
	}
	m, _ := filepath.Glob(path + ".corrupt-*")
	if len(m) != 1 {
		t.Errorf("corrupt file not moved aside: %v", m)
	}
}

func TestConcurrentRegisters(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for _, user := range []string{"1000", "1001"} {
		for d := 0; d < 4; d++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					f.do(reg{user: user, callID: fmt.Sprintf("%s-%d", user, d), cseq: 2*i + 1,
						contacts: []string{fmt.Sprintf("<sip:%s@192.0.2.%d>", user, 10+d)}})
					f.r.Lookup(user)
				}
			}()
		}
	}
	wg.Wait()
	for _, user := range []string{"1000", "1001"} {
		if n := len(f.r.Lookup(user)); n != 4 {
			t.Errorf("%s: %d bindings, want 4", user, n)
		}
	}
}
