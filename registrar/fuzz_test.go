package registrar

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzContacts drives the REGISTER processing that follows authentication
// with arbitrary Contact and Expires values: it must never panic, and what
// it accepts must respect the expiry bounds and MaxContacts.
func FuzzContacts(f *testing.F) {
	for _, s := range [][2]string{
		{"<sip:1000@192.0.2.10:5060>;expires=60;q=0.5", "600"},
		{"*", "0"},
		{"<sip:1000@a>, <sip:1000@b>;expires=0, \"Bob\" <sips:1000@[2001:db8::1]:5061;transport=tls>", ""},
		{"sip:1000@192.0.2.10;expires=4294967296", "99999999999"},
		{"<sip:1000@a>;+sip.instance=\"<urn:uuid:1>\";q=1.0", "120"},
		{"<tel:+15551234>", "60"},
	} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := withDefaults(Config{MinExpires: 60, MaxExpires: 3600, DefaultExpires: 600, MaxContacts: 4})
	f.Fuzz(func(t *testing.T, contact, expires string) {
		if strings.ContainsAny(contact+expires, "\r\n") {
			return
		}
		raw := "REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n" +
			"To: <sip:1000@pbx.example.com>\r\nFrom: <sip:1000@pbx.example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n" +
			"Contact: " + contact + "\r\n"
		if expires != "" {
			raw += "Expires: " + expires + "\r\n"
		}
		raw += "Content-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		cs, err := requestContacts(req)
		if err != nil {
			return
		}
		hdr, has, err := expiresHeader(req)
		if err != nil {
			return
		}
		existing := []Binding{{User: "1000", Contact: "sip:1000@a", key: "sip:1000@a:0", CallID: "c", CSeq: 1,
			Expires: now.Add(time.Minute), Updated: now.Add(-time.Minute), Q: 1}}
		u := update{user: "1000", callID: "c", cseq: 2, now: now, cfg: cfg, hdrExpires: hdr, hasExpires: has}
		next, _, rerr := u.apply(existing, cs)
		if rerr != nil {
			if rerr.code < 400 {
				t.Fatalf("error with status %d", rerr.code)
			}
			return
		}
		if len(next) > cfg.MaxContacts {
			t.Fatalf("%d bindings > max %d", len(next), cfg.MaxContacts)
		}
		for _, b := range next {
			if !b.Expires.After(now) || b.Expires.After(now.Add(time.Duration(cfg.MaxExpires)*time.Second)) {
				t.Fatalf("binding expiry %v out of bounds", b.Expires.Sub(now))
			}
			if b.key == "" || b.Q < 0 || b.Q > 1 {
				t.Fatalf("bad binding %+v", b)
			}
		}
	})
}
