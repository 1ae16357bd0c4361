package b2bua

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/switchboard/switchboard/config"
)

func testRouter(t *testing.T) *Router {
	t.Helper()
	cfg := &config.Config{
		Trunks: []config.Trunk{
			// A bare address is a /32 (issue 9: it used to pass -check and stop the start).
			{Name: "carrier", URI: "sip:127.0.0.2:5080", Trusted: []string{"127.0.0.2", "2001:db8::/64"}},
			{Name: "tcpco", URI: "sip:sip.example.net;transport=tcp", OutboundProxy: "sip:[::1]:5070"},
		},
		Routes: []config.Route{
			{Match: `^1\d{3}$`, To: "user"},
			{Match: `^9(\d+)$`, To: "trunk:carrier", Rewrite: "$1"},
			{Match: `^00(?P<rest>\d+)$`, To: "trunk:tcpco", Rewrite: "+${rest}"},
			{Match: `^0`, To: "reject", Status: 403},
			{Match: `^666$`, To: "reject", Status: 603, Reason: "Go Away"},
		},
	}
	validated(t, cfg)
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// validated fills what Validate requires besides trunks and routes and
// validates cfg: routers are built only from validated configurations.
func validated(t *testing.T, cfg *config.Config) {
	t.Helper()
	cfg.SIP.Listen = []string{"udp://127.0.0.1:5060"}
	cfg.SIP.Domain = "example.com"
	cfg.Media.Address = "127.0.0.1"
	cfg.Media.Ports = "30000-30099"
	cfg.State.Dir, cfg.Records.Dir = t.TempDir(), t.TempDir()
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
}

func TestRouterRoute(t *testing.T) {
	r := testRouter(t)
	for _, tc := range []struct {
		dialled string
		ok      bool
		kind    TargetKind
		number  string
		trunk   string
		status  int
		reason  string
	}{
		{"1000", true, TargetUser, "1000", "", 0, ""},
		{"10000", false, 0, "", "", 0, ""},
		{"95551234", true, TargetTrunk, "5551234", "carrier", 0, ""},
		{"004930123", true, TargetTrunk, "+4930123", "tcpco", 0, ""},
		{"0123", true, TargetReject, "0123", "", 403, "Forbidden"},
		{"666", true, TargetReject, "666", "", 603, "Go Away"},
		{"", false, 0, "", "", 0, ""},
		{"abc", false, 0, "", "", 0, ""},
	} {
		got, ok := r.Route(tc.dialled)
		if ok != tc.ok {
			t.Errorf("%q: ok=%v, want %v", tc.dialled, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Kind != tc.kind || got.Number != tc.number || got.Status != tc.status || got.Reason != tc.reason {
			t.Errorf("%q: got %+v", tc.dialled, got)
		}
		if tc.trunk != "" && (got.Trunk == nil || got.Trunk.Name != tc.trunk) {
			t.Errorf("%q: trunk %+v, want %s", tc.dialled, got.Trunk, tc.trunk)
		}
	}
}

func TestRouterTrunks(t *testing.T) {
	r := testRouter(t)
	c := r.byName["carrier"]
	if c.Dest != "127.0.0.2:5080" || c.Transport != "UDP" {
		t.Errorf("carrier dest %s transport %s", c.Dest, c.Transport)
	}
	tc := r.byName["tcpco"]
	if tc.Dest != "[::1]:5070" || tc.Transport != "TCP" {
		t.Errorf("tcpco: outbound proxy must be the destination: %s %s", tc.Dest, tc.Transport)
	}
	for _, x := range []struct {
		addr string
		want string
	}{
		{"127.0.0.2", "carrier"},
		{"127.0.0.3", ""},
		{"127.0.0.1", ""},
		{"2001:db8::7", "carrier"},
		{"::ffff:127.0.0.2", "carrier"}, // v4-mapped source on a dual-stack socket
		{"2001:db9::1", ""},
	} {
		got := r.TrunkFor(netip.MustParseAddr(x.addr))
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != x.want {
			t.Errorf("TrunkFor(%s) = %q, want %q", x.addr, name, x.want)
		}
	}
}

// TestRouterNeedsValidatedConfig: the router never parses configuration
// strings itself (bad regexps, URIs and ranges are config.Validate's to
// refuse); an unvalidated configuration is refused, not half-parsed.
func TestRouterNeedsValidatedConfig(t *testing.T) {
	for name, cfg := range map[string]*config.Config{
		"route not compiled": {Routes: []config.Route{{Match: "^1", To: "user"}}},
		"trunk not parsed":   {Trunks: []config.Trunk{{Name: "x", URI: "sip:127.0.0.1"}}},
		"trusted not parsed": {Trunks: []config.Trunk{{Name: "x", URI: "sip:127.0.0.1", Trusted: []string{"127.0.0.1"}}}},
	} {
		if _, err := NewRouter(cfg); !errors.Is(err, errNotValidated) {
			t.Errorf("%s: NewRouter: %v, want errNotValidated", name, err)
		}
	}
}

func TestBestFinal(t *testing.T) {
	for _, tc := range []struct {
		codes []int
		want  int
	}{
		{[]int{486}, 486},
		{[]int{408, 486}, 408},
		{[]int{503, 486}, 486},
		{[]int{486, 603}, 603},
		{[]int{500, 503}, 500},
		{nil, 480},
	} {
		if got := bestFinal(tc.codes); got != tc.want {
			t.Errorf("bestFinal(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
	for code, want := range map[int]int{302: 480, 401: 403, 407: 403, 486: 486, 503: 503} {
		if got := failureToCaller(code); got != want {
			t.Errorf("failureToCaller(%d) = %d, want %d", code, got, want)
		}
	}
}
