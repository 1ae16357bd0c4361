package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
)

// Route targets (Route.To values other than "trunk:NAME").
const (
	RouteUser   = "user"
	RouteReject = "reject"
	// RouteTrunkPrefix prefixes a trunk name in Route.To: "trunk:carrier".
	RouteTrunkPrefix = "trunk:"
)

// Validate checks every key, compiles routes into Route.Re and fills the
// other parsed fields (SIP.Listeners, Media.PortMin/PortMax,
// Trunk.TrustedNets). It reports all problems at once; each names the file,
// line (when known) and key. Call ApplyDefaults first for a Config built in
// code (Load does both).
func (c *Config) Validate() error {
	v := validator{c: c}
	v.sip()
	v.tls()
	v.media()
	v.users()
	trunks := v.trunks()
	v.routes(trunks)
	v.positive("calls.ring_timeout", c.Calls.RingTimeout)
	switch st := c.Calls; {
	case st.MinSE < time.Second || st.MinSE%time.Second != 0:
		v.errf("calls.min_se", "must be whole seconds, at least 1s (RFC 4028 asks 90s), got %s", st.MinSE)
	case st.SessionExpires%time.Second != 0 || st.SessionExpires < st.MinSE:
		v.errf("calls.session_expires", "must be whole seconds, at least calls.min_se (%s), got %s", st.MinSE, st.SessionExpires)
	}
	if c.Calls.MaxCalls < 0 {
		v.errf("calls.max_calls", "must be 0 (unbounded) or more, got %d", c.Calls.MaxCalls)
	}
	v.nonEmpty("records.dir", c.Records.Dir)
	v.nonEmpty("state.dir", c.State.Dir)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.runtime()
	v.api()
	v.streams()
	v.records()
	v.registrar()
	v.hep()
	v.qualityReports()
	v.security()
	v.srtp()
	v.webrtc()
	v.overload()
	v.services()
	v.tones()
	v.dns()
	v.identity()
	v.privacy()
	v.websocket()
	v.positive("shutdown_grace", c.ShutdownGrace)
	return errors.Join(v.errs...)
}

func (v *validator) runtime() {
	r := &v.c.Runtime
	if r.GCPercent < 10 || r.GCPercent > 10000 {
		v.errf("runtime.gc_percent", "must be 10..10000, got %d", r.GCPercent)
	}
	if r.MaxProcs < 0 {
		v.errf("runtime.max_procs", "must be 0 (all cores) or more, got %d", r.MaxProcs)
	}
	r.MemoryLimitBytes = 0
	if r.MemoryLimit != "" {
		n, err := parseBytes(r.MemoryLimit)
		if err != nil {
			v.errf("runtime.memory_limit", "%v", err)
		}
		r.MemoryLimitBytes = n
	}
}

// parseBytes reads a size such as 512MiB, 1GiB, 2000000 (bytes) or 64MB.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a positive size such as 512MiB or 2GiB, got %q", s)
	}
	return n * mult, nil
}

type validator struct {
	c    *Config
	errs []error
}

func (v *validator) errf(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", v.c.where(key), fmt.Sprintf(format, args...)))
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.errf(key, "must be a positive duration such as 30s, got %s", d)
	}
}

func (v *validator) nonEmpty(key, s string) {
	if strings.TrimSpace(s) == "" {
		v.errf(key, "must not be empty")
	}
}

func (v *validator) oneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.errf(key, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
}

func (v *validator) sip() {
	s := &v.c.SIP
	s.Listeners = s.Listeners[:0]
	if len(s.Listen) == 0 {
		v.errf("sip.listen", "at least one listen URL is required, e.g. udp://127.0.0.1:5060")
	}
	seen := make(map[Listener]bool)
	for i, raw := range s.Listen {
		key := fmt.Sprintf("sip.listen[%d]", i)
		l, err := ParseListen(raw)
		if err != nil {
			v.errf(key, "%v", err)
			continue
		}
		if seen[l] {
			v.errf(key, "duplicate listen URL %q", raw)
			continue
		}
		seen[l] = true
		s.Listeners = append(s.Listeners, l)
	}
	if s.Domain == "" {
		v.errf("sip.domain", "required: the SIP domain users register in, e.g. pbx.example.com or 192.0.2.10")
	} else if !validHost(s.Domain) {
		v.errf("sip.domain", "not a host name or IP address: %q", s.Domain)
	}
	if strings.ContainsAny(s.Realm, "\"\\\r\n") {
		v.errf("sip.realm", "must not contain quotes, backslashes or line breaks")
	}
	if s.MinExpires < 1 {
		v.errf("sip.min_expires", "must be at least 1 second, got %d", s.MinExpires)
	}
	if s.MaxExpires < s.MinExpires {
		v.errf("sip.max_expires", "must be at least sip.min_expires (%d), got %d", s.MinExpires, s.MaxExpires)
	}
	if s.DefaultExpires < s.MinExpires || s.DefaultExpires > s.MaxExpires {
		v.errf("sip.default_expires", "must lie between sip.min_expires (%d) and sip.max_expires (%d), got %d",
			s.MinExpires, s.MaxExpires, s.DefaultExpires)
	}
	v.positive("sip.nonce_lifetime", s.NonceLifetime)
	if s.TransactionLinger < time.Second || s.TransactionLinger > 32*time.Second {
		v.errf("sip.transaction_linger", "must lie between 1s and 32s (64×T1), got %s", s.TransactionLinger)
	}
	algSeen := map[string]bool{}
	for i, a := range s.DigestAlgorithms {
		key := fmt.Sprintf("sip.digest_algorithms[%d]", i)
		v.oneOf(key, a, "SHA-256", "MD5")
		if algSeen[a] {
			v.errf(key, "duplicate algorithm %q", a)
		}
		algSeen[a] = true
	}
}

// ParseListen parses one sip.listen URL: udp://, tcp://, tls://, ws:// or
// wss:// (SIP over WebSocket, config/websocket.go) followed by an IPv4
// address and port (127.0.0.1:5060) or a bracketed IPv6 address and port
// ([::1]:5060).
func ParseListen(raw string) (Listener, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Listener{}, fmt.Errorf("not a URL: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "udp", "tcp", "tls", TransportWS, TransportWSS:
	case "":
		return Listener{}, fmt.Errorf("missing transport, write e.g. udp://%s", raw)
	default:
		return Listener{}, fmt.Errorf("unknown transport %q in %q (udp, tcp, tls, ws or wss)", u.Scheme, raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Listener{}, fmt.Errorf("only transport://host:port is allowed, got %q", raw)
	}
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil {
		return Listener{}, fmt.Errorf("want an IP address and port such as 127.0.0.1:5060 or [::1]:5060 in %q: %w", raw, err)
	}
	if ap.Port() == 0 {
		return Listener{}, fmt.Errorf("port must be 1-65535 in %q", raw)
	}
	return Listener{Transport: scheme, Addr: ap}, nil
}

// hostLabel is one DNS label (RFC 1123 §2.1).
var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// validHost accepts an IP address (IPv6 with or without brackets) or a DNS name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// knownCodecs maps lower-case SDP encoding names to their usual spelling.
var knownCodecs = map[string]string{
	"pcmu": "PCMU", "pcma": "PCMA", "g722": "G722", "opus": "opus",
	"telephone-event": "telephone-event", "cn": "CN",
}

func (v *validator) media() {
	m := &v.c.Media
	m.BindAddr, m.AdvertiseAddr = netip.Addr{}, netip.Addr{}
	addr, err := netip.ParseAddr(m.Address)
	switch {
	case m.Address == "":
		v.errf("media.address", "required: the local IP address RTP sockets bind to, e.g. 0.0.0.0")
	case err != nil:
		v.errf("media.address", "not an IP address: %q", m.Address)
	default:
		m.BindAddr, m.AdvertiseAddr = addr, addr
	}
	if m.Advertise == "" {
		if err == nil && addr.IsUnspecified() {
			v.errf("media.advertise", "required when media.address is %s: the address peers send RTP to", m.Address)
		}
	} else if a, err := netip.ParseAddr(strings.Trim(m.Advertise, "[]")); err != nil {
		// The media engine writes an address into SDP: a host name would
		// pass here and stop Switchboard at start.
		v.errf("media.advertise", "not an IP address: %q (host names are not supported)", m.Advertise)
	} else if a.IsUnspecified() {
		v.errf("media.advertise", "must be an address peers can reach, not %s", m.Advertise)
	} else {
		m.AdvertiseAddr = a
	}

	m.PortMin, m.PortMax = 0, 0
	lo, hi, err := parsePortRange(m.Ports)
	if err != nil {
		v.errf("media.ports", "%v", err)
	} else {
		m.PortMin, m.PortMax = lo, hi
	}

	v.codecList("media.codecs", m.Codecs)
	v.positive("media.inactivity_timeout", m.InactivityTimeout)
	v.positive("media.quarantine", m.Quarantine)
	if m.LatchPackets < 1 {
		v.errf("media.latch_packets", "must be at least 1, got %d", m.LatchPackets)
	}
	if m.OpusComplexity < 0 || m.OpusComplexity > 10 {
		v.errf("media.opus_complexity", "must be 1-10 (0 for the default 5), got %d", m.OpusComplexity)
	}
}

// parsePortRange parses "min-max"; the range is narrowed to start on an even
// port (RTP even, RTCP odd: RFC 3550 §11) and must hold at least one pair.
func parsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want a range min-max such as 20000-29999, got %q", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want a range min-max such as 20000-29999, got %q", s)
	}
	if lo < 1024 || hi > 65535 {
		return 0, 0, fmt.Errorf("ports must lie within 1024-65535, got %q", s)
	}
	if lo%2 == 1 {
		lo++
	}
	if hi < lo+1 {
		return 0, 0, fmt.Errorf("range %q holds no even/odd port pair", s)
	}
	return lo, hi, nil
}

// userName restricts user names to RFC 3261 §25.1 userinfo characters
// without escapes (unreserved and user-unreserved).
var userName = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$`)

// codecList validates a list of codec names at key (media.codecs, or a
// user's or trunk's codecs), canonicalising them in place.
func (v *validator) codecList(key string, list []string) {
	audio := 0
	seen := make(map[string]bool)
	for i, name := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		canon, ok := knownCodecs[strings.ToLower(name)]
		if !ok {
			v.errf(k, "unknown codec %q (known: PCMU, PCMA, G722, opus, telephone-event, CN)", name)
			continue
		}
		if seen[canon] {
			v.errf(k, "codec %s listed twice", canon)
			continue
		}
		seen[canon] = true
		list[i] = canon
		if canon != "telephone-event" && canon != "CN" {
			audio++
		}
	}
	if len(list) > 0 && audio == 0 {
		v.errf(key, "needs at least one audio codec (PCMU, PCMA, G722 or opus)")
	}
}

func (v *validator) users() {
	seen := make(map[string]int)
	for i, u := range v.c.Users {
		key := fmt.Sprintf("users[%d].name", i)
		switch {
		case u.Name == "":
			v.errf(key, "required")
			continue
		case !userName.MatchString(u.Name):
			v.errf(key, "%q is not a valid SIP user part", u.Name)
			continue
		}
		if j, dup := seen[u.Name]; dup {
			v.errf(key, "duplicate user %q (also users[%d])", u.Name, j)
			continue
		}
		seen[u.Name] = i
		v.codecList(fmt.Sprintf("users[%d].codecs", i), u.Codecs)
	}
}

// trunks validates trunks and returns them by name.
func (v *validator) trunks() map[string]bool {
	names := make(map[string]bool)
	for i := range v.c.Trunks {
		t := &v.c.Trunks[i]
		key := fmt.Sprintf("trunks[%d]", i)
		switch {
		case t.Name == "":
			v.errf(key+".name", "required")
		case strings.ContainsAny(t.Name, ": \t"):
			v.errf(key+".name", "%q must not contain ':' or spaces", t.Name)
		case names[t.Name]:
			v.errf(key+".name", "duplicate trunk %q", t.Name)
		default:
			names[t.Name] = true
		}
		v.codecList(key+".codecs", t.Codecs)
		t.ParsedURI, t.ParsedProxy = sip.Uri{}, nil
		if t.URI == "" {
			v.errf(key+".uri", "required, e.g. sip:carrier.example:5060")
		} else if u, err := parseSIPURI(t.URI); err != nil {
			v.errf(key+".uri", "%v", err)
		} else {
			t.ParsedURI = u
		}
		if t.OutboundProxy != "" {
			if u, err := parseSIPURI(t.OutboundProxy); err != nil {
				v.errf(key+".outbound_proxy", "%v", err)
			} else {
				t.ParsedProxy = &u
			}
		}
		v.causes(t, key+".causes")
		v.trunkTLS(t, key)
		v.trunkFailover(t, key)
		v.trunkHealth(t, key)
		v.trunkRegister(t, key)
		v.trunkDIDs(t, key)
		t.TrustedNets = t.TrustedNets[:0]
		for j, s := range t.Trusted {
			k := fmt.Sprintf("%s.trusted[%d]", key, j)
			p, err := ParsePrefix(s)
			if err != nil {
				v.errf(k, "%v", err)
				continue
			}
			if p.Bits() == 0 {
				v.errf(k, "%s trusts every address and would disable authentication", s)
				continue
			}
			t.TrustedNets = append(t.TrustedNets, p)
		}
	}
	for i, t := range v.c.Trunks {
		for j, to := range t.TransitTo {
			if !names[to] {
				v.errf(fmt.Sprintf("trunks[%d].transit_to[%d]", i, j), "unknown trunk %q", to)
			}
		}
	}
	return names
}

// causes builds a trunk's cause overrides, one error per bad entry, each
// naming its key: trunks[0].causes.sip_to_q850: key "486x": ...
func (v *validator) causes(t *Trunk, key string) {
	t.CauseOverrides = nil
	if len(t.Causes.Q850ToSIP) == 0 && len(t.Causes.SIPToQ850) == 0 {
		return
	}
	o, err := cause.NewOverrides(t.Causes)
	if err == nil {
		t.CauseOverrides = o
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		// Each entry's error starts with its map's name.
		m, rest, _ := strings.Cut(e.Error(), ": ")
		v.errf(key+"."+m, "%s", rest)
	}
}

// ParsePrefix parses a CIDR range ("198.51.100.0/24", "2001:db8::/32"); a
// bare address stands for itself (/32 or /128). The prefix is masked.
func ParsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR range or address: %q", s)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a CIDR range: %q", s)
	}
	return p.Masked(), nil
}

// parseSIPURI parses a sip: or sips: URI with a host.
func parseSIPURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("not a SIP URI: %q: %w", s, err)
	}
	if sc := strings.ToLower(u.Scheme); sc != "sip" && sc != "sips" {
		return sip.Uri{}, fmt.Errorf("want a sip: or sips: URI, got %q", s)
	}
	if u.Host == "" {
		return sip.Uri{}, fmt.Errorf("URI %q has no host", s)
	}
	return u, nil
}

func (v *validator) routes(trunks map[string]bool) {
	for i := range v.c.Routes {
		r := &v.c.Routes[i]
		key := fmt.Sprintf("routes[%d]", i)
		r.Re = nil
		if r.Match == "" {
			v.errf(key+".match", "required: a regular expression on the dialled number, e.g. '^1\\d{3}$'")
		} else if re, err := regexp.Compile(r.Match); err != nil {
			v.errf(key+".match", "bad regular expression %q: %v", r.Match, err)
		} else {
			r.Re = re
		}
		v.routePolicy(r, key, trunks)
		switch {
		case r.To == RouteUser || r.To == RouteReject || IsService(r.To):
		case strings.HasPrefix(r.To, RouteTrunkPrefix):
			name := strings.TrimPrefix(r.To, RouteTrunkPrefix)
			if !trunks[name] {
				v.errf(key+".to", "unknown trunk %q (define it under trunks)", name)
			}
		case r.To == "":
			v.errf(key+".to", "required: user, trunk:NAME, reject, echo, tone, playback or conference")
		default:
			v.errf(key+".to", "want user, trunk:NAME, reject, echo, tone, playback or conference, got %q", r.To)
		}
		if r.To == RouteReject {
			if r.Status < 400 || r.Status > 699 {
				v.errf(key+".status", "must be a final error status 400-699, got %d", r.Status)
			}
			if strings.ContainsAny(r.Reason, "\r\n") {
				v.errf(key+".reason", "must not contain line breaks")
			}
		} else {
			if r.Status != 0 {
				v.errf(key+".status", "only applies to to: reject")
			}
			if r.Reason != "" {
				v.errf(key+".reason", "only applies to to: reject")
			}
		}
		switch r.MediaMode {
		case "", MediaRelay, MediaProcess:
		default:
			v.errf(key+".media_mode", "want relay or process, got %q", r.MediaMode)
		}
		if r.Rewrite != "" && r.Re != nil {
			if err := checkTemplate(r.Re, r.Rewrite); err != nil {
				v.errf(key+".rewrite", "%v", err)
			}
		}
	}
}

// templateRef finds $name, ${name}, $1, ${1} references in an expansion
// template as regexp.Expand reads them ($$ is a literal dollar).
var templateRef = regexp.MustCompile(`\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))`)

// checkTemplate reports references in tmpl to groups re does not have,
// including the regexp.Expand trap where "$1x" means the group named "1x".
func checkTemplate(re *regexp.Regexp, tmpl string) error {
	names := re.SubexpNames()
	for _, m := range templateRef.FindAllStringSubmatch(tmpl, -1) {
		if m[1] == "$" {
			continue
		}
		ref := m[2] + m[3]
		if n, err := strconv.Atoi(ref); err == nil {
			if n > re.NumSubexp() {
				return fmt.Errorf("$%s refers to group %d but %q has %d", ref, n, re.String(), re.NumSubexp())
			}
			continue
		}
		found := false
		for _, name := range names {
			if name != "" && name == ref {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%q refers to group %q which %q does not define (write ${1} to follow a number with text)", m[0], ref, re.String())
		}
	}
	if strings.Count(tmpl, "${") > strings.Count(tmpl, "}") {
		return fmt.Errorf("unterminated ${ in %q", tmpl)
	}
	return nil
}
