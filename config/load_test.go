package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// base is a minimal valid configuration; cases edit it with replace.
const base = `sip:
  listen: [udp://127.0.0.1:5060]
  domain: pbx.example.com
media:
  address: 127.0.0.1
users:
  - {name: "1000", password: "${PW_1000}"}
trunks:
  - name: carrier
    uri: sip:127.0.0.2:5080
    trusted: [127.0.0.2/32]
routes:
  - {match: '^1\d{3}$', to: user}
  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}
`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		from    string // replaced in base by to
		to      string
		want    []string // substrings of the error
		notWant string
	}{
		{name: "unknown key names file line key", from: "  domain: pbx.example.com\n", to: "  domain: pbx.example.com\n  foo: 1\n",
			want: []string{`x.yaml:4: unknown key "foo" in sip`}},
		{name: "typo suggests", from: "  domain:", to: "  domian:",
			want: []string{`x.yaml:3: unknown key "domian" in sip (did you mean "domain"?)`}},
		{name: "unknown top-level key", from: "media:", to: "medium: {}\nmedia:",
			want: []string{`x.yaml:4: unknown key "medium" at top level`}},
		{name: "unknown key in list item", from: `uri: sip:127.0.0.2:5080`, to: "uri: sip:127.0.0.2:5080\n    urii: x",
			want: []string{`x.yaml:11: unknown key "urii" in trunks[0] (did you mean "uri"?)`}},
		{name: "no suggestion when far", from: `uri: sip:127.0.0.2:5080`, to: "uri: sip:127.0.0.2:5080\n    gin: {}",
			want: []string{`x.yaml:11: unknown key "gin" in trunks[0]`}, notWant: "did you mean"},
		{name: "quality collector not a SIP URI", from: "media:", to: "quality_reports:\n  collector: http://x\nmedia:",
			want: []string{`x.yaml:5: quality_reports.collector: want a sip: or sips: URI, got "http://x"`}},
		{name: "gc percent range", from: "media:", to: "runtime:\n  gc_percent: 5\nmedia:",
			want: []string{`x.yaml:5: runtime.gc_percent: must be 10..10000, got 5`}},
		{name: "memory limit unit", from: "media:", to: "runtime:\n  memory_limit: 1 gigabyte\nmedia:",
			want: []string{`x.yaml:5: runtime.memory_limit: want a positive size such as 512MiB or 2GiB, got "1 gigabyte"`}},
		{name: "negative max procs", from: "media:", to: "runtime:\n  max_procs: -1\nmedia:",
			want: []string{`x.yaml:5: runtime.max_procs: must be 0 (all cores) or more, got -1`}},
		{name: "api listen without host", from: "media:", to: "api:\n  listen: :8080\nmedia:",
			want: []string{`x.yaml:5: api.listen: give the address to bind, e.g. 127.0.0.1:8080`}},
		{name: "api listen not host:port", from: "media:", to: "api:\n  listen: localhost\nmedia:",
			want: []string{`x.yaml:5: api.listen: want host:port such as 127.0.0.1:8080, got "localhost"`}},
		{name: "registrar store unknown", from: "media:", to: "registrar:\n  store: redis\nmedia:",
			want: []string{`x.yaml:5: registrar.store: must be one of memory, postgres, got "redis"`}},
		{name: "registrar store postgres needs a database", from: "media:", to: "registrar:\n  store: postgres\nmedia:",
			want: []string{`x.yaml:5: registrar.store: postgres keeps registrations in the records database: set records.database_url too`}},
		{name: "api token short", from: "media:", to: "api:\n  listen: 127.0.0.1:8080\n  token: secret\nmedia:",
			want: []string{`x.yaml:6: api.token: must be at least 16 characters`}},
		{name: "bad regex", from: `'^1\d{3}$'`, to: `'^1(\d{3}$'`,
			want: []string{`x.yaml:13: routes[0].match: bad regular expression`}},
		{name: "unknown trunk", from: "to: trunk:carrier", to: "to: trunk:nope",
			want: []string{`x.yaml:14: routes[1].to: unknown trunk "nope"`}},
		{name: "bad target", from: "to: user}", to: "to: users}",
			want: []string{`routes[0].to: want user, trunk:NAME, reject, echo, tone, playback or conference, got "users"`}},
		{name: "rewrite unknown group", from: `rewrite: '$1'`, to: `rewrite: '$2'`,
			want: []string{`routes[1].rewrite: $2 refers to group 2`}},
		{name: "rewrite $1x trap", from: `rewrite: '$1'`, to: `rewrite: '$1x'`,
			want: []string{`routes[1].rewrite`, `write ${1}`}},
		{name: "ws with a path", from: "[udp://127.0.0.1:5060]", to: "[udp://127.0.0.1:5060, 'ws://127.0.0.1:8088/ws']",
			want: []string{`sip.listen[1]: only transport://host:port is allowed`}},
		{name: "listen hostname", from: "[udp://127.0.0.1:5060]", to: "[udp://localhost:5060]",
			want: []string{`sip.listen[0]: want an IP address and port`}},
		{name: "listen no port", from: "[udp://127.0.0.1:5060]", to: "[udp://127.0.0.1]",
			want: []string{`sip.listen[0]`}},
		{name: "listen bad scheme", from: "[udp://127.0.0.1:5060]", to: "[sctp://127.0.0.1:5060]",
			want: []string{`sip.listen[0]: unknown transport "sctp"`}},
		{name: "listen duplicate", from: "[udp://127.0.0.1:5060]", to: "[udp://127.0.0.1:5060, udp://127.0.0.1:5060]",
			want: []string{`sip.listen[1]: duplicate`}},
		{name: "no listen", from: "  listen: [udp://127.0.0.1:5060]\n", to: "",
			want: []string{`sip.listen: at least one`}},
		{name: "bad cidr", from: "[127.0.0.2/32]", to: "[127.0.0.2/33]",
			want: []string{`x.yaml:11: trunks[0].trusted[0]: not a CIDR range`}},
		{name: "trust everyone", from: "[127.0.0.2/32]", to: "[0.0.0.0/0]",
			want: []string{`trunks[0].trusted[0]: 0.0.0.0/0 trusts every address`}},
		{name: "duplicate user", from: `  - {name: "1000", password: "${PW_1000}"}`, to: `  - {name: "1000"}` + "\n" + `  - {name: "1000"}`,
			want: []string{`users[1].name: duplicate user "1000" (also users[0])`}},
		{name: "bad user name", from: `name: "1000"`, to: `name: "10 00"`,
			want: []string{`users[0].name: "10 00" is not a valid SIP user part`}},
		{name: "negative duration", from: "media:\n", to: "calls: {ring_timeout: -5s}\nmedia:\n",
			want: []string{`x.yaml:4: calls.ring_timeout: must be a positive duration`}},
		{name: "duration without unit", from: "media:\n", to: "calls: {ring_timeout: 60}\nmedia:\n",
			want: []string{`x.yaml:4: calls.ring_timeout: cannot unmarshal`}},
		{name: "wrong type", from: "media:\n", to: "calls: {max_calls: many}\nmedia:\n",
			want: []string{`x.yaml:4: calls.max_calls: cannot unmarshal !!str`}},
		{name: "port range", from: "  address: 127.0.0.1\n", to: "  address: 127.0.0.1\n  ports: 30000-20000\n",
			want: []string{`media.ports: range "30000-20000" holds no`}},
		{name: "port range syntax", from: "  address: 127.0.0.1\n", to: "  address: 127.0.0.1\n  ports: 20000\n",
			want: []string{`media.ports: want a range`}},
		{name: "unknown codec", from: "  address: 127.0.0.1\n", to: "  address: 127.0.0.1\n  codecs: [PCMU, G729]\n",
			want: []string{`media.codecs[1]: unknown codec "G729"`}},
		{name: "unspecified address needs advertise", from: "address: 127.0.0.1", to: "address: 0.0.0.0",
			want: []string{`media.advertise: required when media.address is 0.0.0.0`}},
		// The media engine needs an address for SDP: a host name passed
		// -check and then stopped the start.
		{name: "advertise host name", from: "  address: 127.0.0.1\n", to: "  address: 127.0.0.1\n  advertise: media.example.com\n",
			want: []string{`media.advertise: not an IP address: "media.example.com"`}},
		{name: "no domain", from: "  domain: pbx.example.com\n", to: "",
			want: []string{`sip.domain: required`}},
		{name: "expires order", from: "  domain: pbx.example.com\n", to: "  domain: pbx.example.com\n  min_expires: 600\n  max_expires: 60\n",
			want: []string{`sip.max_expires: must be at least sip.min_expires`}},
		{name: "transaction linger above 64xT1", from: "  domain: pbx.example.com\n", to: "  domain: pbx.example.com\n  transaction_linger: 40s\n",
			want: []string{`sip.transaction_linger: must lie between 1s and 32s (64×T1), got 40s`}},
		{name: "reject status range", from: "routes:\n", to: "routes:\n  - {match: '^0', to: reject, status: 200}\n",
			want: []string{`routes[0].status: must be a final error status`}},
		{name: "status on non-reject", from: "to: user}", to: "to: user, status: 404}",
			want: []string{`routes[0].status: only applies to to: reject`}},
		{name: "bad log level", from: "media:\n", to: "log: {level: loud}\nmedia:\n",
			want: []string{`log.level: must be one of debug, info, warn, error`}},
		{name: "unterminated env", from: `"${PW_1000}"`, to: `"${PW_1000"`,
			want: []string{`x.yaml:7: users[0].password: unterminated ${`}},
		{name: "bad env name", from: `"${PW_1000}"`, to: `"${1X}"`,
			want: []string{`users[0].password: bad variable name "1X"`}},
		{name: "several errors at once", from: "to: trunk:carrier, rewrite: '$1'", to: "to: trunk:nope, rewrite: '$1', status: 1",
			want: []string{`unknown trunk "nope"`, `routes[1].status: only applies`}},
		{name: "bad yaml", from: "sip:", to: "sip: [",
			want: []string{`x.yaml:`}},
		{name: "duplicate key", from: "  domain: pbx.example.com\n", to: "  domain: pbx.example.com\n  domain: other\n",
			want: []string{`x.yaml:4`, `already defined`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.from) {
				t.Fatalf("base lacks %q", tt.from)
			}
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error contains %q", tt.notWant)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := parse("x.yaml", []byte(base), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ring_timeout", c.Calls.RingTimeout, 60 * time.Second},
		{"inactivity", c.Media.InactivityTimeout, 60 * time.Second},
		{"quarantine", c.Media.Quarantine, 10 * time.Second},
		{"latch", c.Media.LatchPackets, 3},
		{"shutdown_grace", c.ShutdownGrace, 30 * time.Second},
		{"min_expires", c.SIP.MinExpires, 60},
		{"max_expires", c.SIP.MaxExpires, 3600},
		{"default_expires", c.SIP.DefaultExpires, 600},
		{"nonce_lifetime", c.SIP.NonceLifetime, 5 * time.Minute},
		{"transaction_linger", c.SIP.TransactionLinger, 5 * time.Second},
		{"realm", c.SIP.Realm, "pbx.example.com"},
		{"records", c.Records.Dir, "var/records"},
		{"state", c.State.Dir, "var/state"},
		{"ports", c.Media.Ports, "20000-29999"},
		{"port min", c.Media.PortMin, 20000},
		{"port max", c.Media.PortMax, 29999},
		{"advertise", c.Media.Advertise, "127.0.0.1"},
		{"codecs", c.Media.Codecs, []string{"PCMU", "PCMA", "G722", "opus", "telephone-event"}},
		{"log level", c.Log.Level, "info"},
		{"log format", c.Log.Format, "text"},
		{"gc percent", c.Runtime.GCPercent, 400},
		{"memory limit", c.Runtime.MemoryLimitBytes, int64(0)},
		{"max procs", c.Runtime.MaxProcs, 0},
		{"password stays empty", c.Users[0].Password, ""},
		{"listeners", c.SIP.Listeners, []Listener{{"udp", netip.MustParseAddrPort("127.0.0.1:5060")}}},
		{"trusted nets", c.Trunks[0].TrustedNets, []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
		{"bind addr", c.Media.BindAddr, netip.MustParseAddr("127.0.0.1")},
		{"advertise addr", c.Media.AdvertiseAddr, netip.MustParseAddr("127.0.0.1")},
		{"trunk uri parsed", c.Trunks[0].ParsedURI.Host != "", true},
		{"path", c.Path, "x.yaml"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if c.Routes[0].Re == nil || !c.Routes[0].Re.MatchString("1000") {
		t.Error("route 0 not compiled")
	}
}

func TestEnvExpansion(t *testing.T) {
	yaml := strings.Replace(base, "media:\n", "calls:\n  max_calls: ${MAXC:-7}\n  ring_timeout: \"${RING:-45s}\"\nmedia:\n", 1)
	yaml = strings.Replace(yaml, "  address: 127.0.0.1\n", "  address: ${ADDR}\n  advertise: \"${ADV:-203.0.113.9}\"\n", 1)
	yaml = strings.Replace(yaml, "routes:\n", "routes:\n  - {match: '^(?P<n>0\\d+)$', to: trunk:carrier, rewrite: '+44${n}'}\n", 1)
	tests := []struct {
		name string
		env  map[string]string
		want func(c *Config) []any // got, want pairs
	}{
		{"defaults used", map[string]string{"ADDR": "127.0.0.1"}, func(c *Config) []any {
			return []any{c.Calls.MaxCalls, 7, c.Calls.RingTimeout, 45 * time.Second, c.Media.Advertise, "203.0.113.9", c.Users[0].Password, ""}
		}},
		{"values used", map[string]string{"ADDR": "127.0.0.1", "MAXC": "12", "RING": "1m", "ADV": "198.51.100.1", "PW_1000": `p#ss: "x"`}, func(c *Config) []any {
			return []any{c.Calls.MaxCalls, 12, c.Calls.RingTimeout, time.Minute, c.Media.Advertise, "198.51.100.1", c.Users[0].Password, `p#ss: "x"`}
		}},
		{"values that look like YAML stay text", map[string]string{"ADDR": "127.0.0.1", "PW_1000": "null"}, func(c *Config) []any {
			return []any{c.Users[0].Password, "null"}
		}},
		{"empty means default", map[string]string{"ADDR": "127.0.0.1", "MAXC": ""}, func(c *Config) []any {
			return []any{c.Calls.MaxCalls, 7}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse("x.yaml", []byte(yaml), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			p := tt.want(c)
			for i := 0; i < len(p); i += 2 {
				if !reflect.DeepEqual(p[i], p[i+1]) {
					t.Errorf("value %d = %v, want %v", i/2, p[i], p[i+1])
				}
			}
			// Route templates are not expanded from the environment.
			if c.Routes[0].Rewrite != "+44${n}" {
				t.Errorf("rewrite = %q", c.Routes[0].Rewrite)
			}
			r, out, ok := c.Route("0207946")
			if !ok || r != &c.Routes[0] || out != "+440207946" {
				t.Errorf("Route = %v %q %v", r, out, ok)
			}
		})
	}
}

func TestExpandEnv(t *testing.T) {
	e := env(map[string]string{"A": "x", "E": ""})
	tests := []struct{ in, want string }{
		{"${A}", "x"}, {"a${A}b${A}", "axbx"}, {"${B}", ""}, {"${B:-d}", "d"}, {"${E:-d}", "d"},
		{"${A:-d}", "x"}, {"$A $ {A}", "$A $ {A}"}, {"${B:-a:-b}", "a:-b"}, {"", ""},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, e)
		if err != nil || got != tt.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// The shipped configurations must load as they are.
func TestShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.yaml")
	ex, _ := filepath.Glob("../configs/examples/*.yaml")
	files = append(files, ex...)
	if len(files) < 2 {
		t.Fatalf("found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Users) > 0 {
				// Passwords come from the environment or are generated.
				for _, u := range c.Users {
					if u.Password != "" && os.Getenv("SB_"+u.Name+"_PASSWORD") == "" {
						t.Errorf("user %s has a fixed password in %s", u.Name, f)
					}
				}
			}
		})
	}
}

func TestRouteLookup(t *testing.T) {
	c, err := Load("../configs/switchboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dialled, to, out string
		status           int
	}{
		{"1001", "user", "1001", 0},
		{"900441234", "trunk:carrier", "00441234", 0},
		{"0123", "reject", "0123", 403},
		{"5555", "", "", 0},
	}
	for _, tt := range tests {
		r, out, ok := c.Route(tt.dialled)
		if tt.to == "" {
			if ok {
				t.Errorf("%s matched %v", tt.dialled, r.To)
			}
			continue
		}
		if !ok || r.To != tt.to || out != tt.out || r.Status != tt.status {
			t.Errorf("%s: %v %q %v", tt.dialled, r, out, ok)
		}
	}
	tr, ok := c.TrunkFor(netip.MustParseAddr("127.0.0.2"))
	if !ok || tr.Name != "carrier" {
		t.Error("127.0.0.2 not trusted as carrier")
	}
	if _, ok := c.TrunkFor(netip.MustParseAddr("127.0.0.1")); ok {
		t.Error("127.0.0.1 trusted: any local user could skip authentication")
	}
	if _, ok := c.TrunkFor(netip.MustParseAddr("::ffff:127.0.0.2")); !ok {
		t.Error("v4-mapped address not matched")
	}
}

func TestExampleRoutes(t *testing.T) {
	c, err := Load("../configs/examples/pbx-trunk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ dialled, to, out string }{
		{"1001", "user", "1001"},
		{"+442079460142", "user", "1042"},
		{"442079460100", "user", "1000"},
		{"999", "trunk:carrier", "999"},
		{"09011234567", "reject", "09011234567"},
		{"+4915112345678", "trunk:carrier", "+4915112345678"},
		{"004915112345678", "trunk:carrier", "004915112345678"},
		{"02079460000", "trunk:carrier", "+442079460000"},
		{"1100", "", ""},
	}
	for _, tt := range tests {
		r, out, ok := c.Route(tt.dialled)
		switch {
		case tt.to == "" && ok:
			t.Errorf("%s matched %s", tt.dialled, r.Match)
		case tt.to != "" && (!ok || r.To != tt.to || out != tt.out):
			t.Errorf("%s: got %v %q, want %s %q", tt.dialled, r, out, tt.to, tt.out)
		}
	}
	if r, _, _ := c.Route("0901"); r.Reason != "Premium Rate Barred" || r.Status != 403 {
		t.Errorf("reject route %+v", r)
	}
}

// Every key of Config must be documented in configs/README.md.
func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"512MiB", 512 << 20}, {"2GiB", 2 << 30}, {"64MB", 64e6}, {"1000000", 1e6}, {"10 KiB", 10 << 10}, {"7B", 7},
		{"", -1}, {"0MiB", -1}, {"-1GiB", -1}, {"1.5GiB", -1}, {"9999999999TiB", -1}} {
		got, err := parseBytes(tc.in)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("%q: no error, got %d", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestReadmeDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../configs/README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var walk func(tp reflect.Type, prefix string)
	walk = func(tp reflect.Type, prefix string) {
		for name, f := range yamlFields(tp) {
			key := prefix + name
			ft := f.Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), key+"[].")
				continue
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
				walk(ft, key+".")
				continue
			}
			if !strings.Contains(doc, "| `"+key+"` |") {
				t.Errorf("configs/README.md does not document %s", key)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}
