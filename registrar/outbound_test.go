package registrar

import (
	"strings"
	"testing"
	"time"
)

const testInstance = `"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"`

// TestOutboundFlows: two REGISTERs of one instance with reg-id 1 and 2 over
// two connections keep two flows (RFC 5626 §6); each 200 carries Require:
// outbound, Flow-Timer and the GRUUs (RFC 5627 §5); a refresh of flow 1
// replaces only flow 1; Reachable picks one live flow per instance, the
// other when alive refuses the first; ForGRUU finds the instance by its
// public and its temporary GRUU.
func TestOutboundFlows(t *testing.T) {
	f := newFixture(t)
	flow := func(regID, source, callID string, cseq int) *Binding {
		t.Helper()
		res := f.do(reg{user: "1000", callID: callID, cseq: cseq, source: source, network: "TCP",
			contacts: []string{"<sip:1000@10.0.0.9:5060;transport=tcp>;+sip.instance=" + testInstance + ";reg-id=" + regID},
			extra:    []string{"Supported: outbound, gruu", "Expires: 300"}})
		if res.StatusCode != 200 {
			t.Fatalf("REGISTER reg-id %s: %s", regID, res)
		}
		if h := res.GetHeader("Require"); h == nil || h.Value() != "outbound" {
			t.Errorf("200 without Require: outbound: %s", res)
		}
		if h := res.GetHeader("Flow-Timer"); h == nil || h.Value() != "120" {
			t.Errorf("200 without Flow-Timer: 120: %s", res)
		}
		s := res.String()
		if !strings.Contains(s, `pub-gruu="sip:1000@pbx.example.com;gr=urn:uuid:00000000-0000-1000-8000-000A95A0E128"`) ||
			!strings.Contains(s, `temp-gruu="sip:1000@pbx.example.com;gr=tgruu.`) {
			t.Errorf("200 without GRUUs: %s", s)
		}
		for _, b := range f.r.Lookup("1000") {
			if b.RegID == regID {
				return &b
			}
		}
		t.Fatalf("no flow %s in %+v", regID, f.r.Lookup("1000"))
		return nil
	}
	b1 := flow("1", "192.0.2.10:40001", "c1", 1)
	f.clk.add(time.Second)
	b2 := flow("2", "192.0.2.10:40002", "c2", 1)
	if bs := f.r.Lookup("1000"); len(bs) != 2 {
		t.Fatalf("want two flows, got %+v", bs)
	}
	f.clk.add(time.Second)
	b1 = flow("1", "192.0.2.10:40003", "c1", 3) // flow 1 moved to a new connection
	if bs := f.r.Lookup("1000"); len(bs) != 2 {
		t.Fatalf("refresh of flow 1 changed the count: %+v", bs)
	}
	if b1.Source != "192.0.2.10:40003" || b1.Transport != "TCP" || !b1.Flow() {
		t.Fatalf("flow 1 %+v", b1)
	}
	got := Reachable(f.r.Lookup("1000"), func(Binding) bool { return true })
	if len(got) != 1 || got[0].RegID != "1" {
		t.Fatalf("one flow per instance, the freshest: %+v", got)
	}
	got = Reachable(f.r.Lookup("1000"), func(b Binding) bool { return b.RegID != "1" })
	if len(got) != 1 || got[0].Source != b2.Source {
		t.Fatalf("dead flow 1 not passed over: %+v", got)
	}
	if got := Reachable(f.r.Lookup("1000"), func(Binding) bool { return false }); len(got) != 0 {
		t.Fatalf("dead flows reachable: %+v", got)
	}
	bs := f.r.Lookup("1000")
	if got := ForGRUU(bs, "urn:uuid:00000000-0000-1000-8000-000A95A0E128"); len(got) != 2 {
		t.Fatalf("pub-gruu finds %+v", got)
	}
	if got := ForGRUU(bs, b2.TempGRUU); len(got) != 1 || got[0].RegID != "2" {
		t.Fatalf("temp-gruu finds %+v", got)
	}
	if got := ForGRUU(bs, "urn:uuid:other"); len(got) != 0 {
		t.Fatalf("another instance's GRUU finds %+v", got)
	}
}

// TestOutboundNeedsSupported: without Supported: outbound a reg-id is
// ignored (RFC 5626 §6): the binding is an ordinary one, replaced by the
// instance's next REGISTER, and the 200 has no Require: outbound.
func TestOutboundNeedsSupported(t *testing.T) {
	f := newFixture(t)
	for i, id := range []string{"1", "2"} {
		res := f.do(reg{user: "1000", cseq: 1 + 2*i,
			contacts: []string{"<sip:1000@10.0.0.9:5060>;+sip.instance=" + testInstance + ";reg-id=" + id}})
		if res.StatusCode != 200 || res.GetHeader("Require") != nil || strings.Contains(res.String(), "pub-gruu") {
			t.Fatalf("REGISTER: %s", res)
		}
	}
	if bs := f.r.Lookup("1000"); len(bs) != 1 || bs[0].Flow() {
		t.Fatalf("bindings %+v", bs)
	}
	res := f.do(reg{user: "1000", cseq: 9, contacts: []string{"<sip:1000@10.0.0.9:5060>;+sip.instance=" + testInstance + ";reg-id=x"},
		extra: []string{"Supported: outbound"}})
	if res.StatusCode != 400 {
		t.Fatalf("bad reg-id: %s", res)
	}
}
