package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKamailioSharedRegistrations runs two Switchboard instances with
// registrar.store: postgres (one PostgreSQL, started on loopback) behind
// the reference Kamailio configuration (configs/kamailio). A baresip phone
// registers through Kamailio, which hashes the REGISTER to one instance;
// calls to the phone then come through Kamailio round robin, and the one
// that lands on the other instance, which never saw the REGISTER, finds
// the binding in the database and reaches the phone (through Kamailio,
// the binding's source): the phone answers it.
func TestKamailioSharedRegistrations(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp")
	kam := requireTool(t, "kamailio")
	pg := startPostgres(t)
	dir := t.TempDir()
	kport := 15000 + 10*instance()
	callerPort := 15000 + 10*instance()
	pw := "pw-1000-" + randToken()
	trunks := fmt.Sprintf(`  - {name: kamailio, uri: "sip:127.0.0.4:%d", trusted: [127.0.0.4/32]}`, kport)
	var sbs []*SB
	var list strings.Builder
	for range 2 {
		sb := startSB(t, SBOptions{Trunks: trunks, RecordsExtra: "  database_url: " + pg.URL + "\n",
			Extra: fmt.Sprintf("users:\n  - {name: \"1000\", password: %q}\nregistrar:\n  store: postgres\n", pw)})
		sbs = append(sbs, sb)
		fmt.Fprintf(&list, "1 sip:%s\n", sb.Addr())
	}
	for _, sb := range sbs {
		if !sb.waitOutput("registrations shared through PostgreSQL", 10*time.Second) {
			t.Fatal("an instance did not open the shared registration store")
		}
	}
	klog := startKamailioFront(t, kam, dir, kport, list.String())

	// The phone registers with Kamailio as its registrar and outbound proxy.
	phone := startBaresip(t, BaresipOptions{User: "1000", Password: pw, SB: sbs[0], ServerPort: kport, Register: true, ToneHz: 700,
		Extra: fmt.Sprintf(`;outbound="sip:127.0.0.4:%d;transport=udp"`, kport)})
	holder := -1
	deadline := time.Now().Add(10 * time.Second)
	for holder < 0 && time.Now().Before(deadline) {
		for i, sb := range sbs {
			if registeredHere(sb, "1000") {
				holder = i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if holder < 0 {
		t.Fatalf("no instance logged the registration\n%s", tail(phone.out.String(), 2000))
	}
	other := sbs[1-holder]
	if registeredHere(other, "1000") {
		t.Fatal("both instances took the phone's REGISTER: nothing to prove")
	}
	deadline = time.Now().Add(10 * time.Second)
	for pg.QueryInt(`SELECT count(*) FROM switchboard_registrations WHERE user_name = '1000'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the binding never reached the database")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Calls to 1000 through Kamailio, one at a time, until one has landed on
	// the instance without the binding (round robin: the second at the latest).
	uac := writeScenario(t, "uac-kamailio-reg", sigTrustedInvite(sdp("sendrecv")),
		`<recv response="100" optional="true"/>`, `<recv response="180" optional="true"/>`, `<recv response="183" optional="true"/>`,
		`<recv response="200"/>`, uacAck("1"), `<pause milliseconds="1000"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
	answered := func(sb *SB) int {
		n := 0
		for _, c := range sb.CDRs() {
			if c.Status == 200 && c.Dialled == "1000" {
				n++
			}
		}
		return n
	}
	for i := 0; i < 4 && answered(other) == 0; i++ {
		r := runSipp(t, dir, 40*time.Second, "-sf", uac, fmt.Sprintf("127.0.0.4:%d", kport), "-i", "127.0.0.3",
			"-p", strconv.Itoa(callerPort), "-mi", "127.0.0.3", "-mp", strconv.Itoa(callerPort+2),
			"-s", "1000", "-key", "user", "caller", "-m", "1", "-timeout", "30s")
		if r.Stats.Successful != 1 {
			t.Fatalf("call %d to the registered phone failed\n%s\nkamailio:\n%s", i+1, tail(r.Out, 2500), tail(klog.String(), 3000))
		}
		deadline := time.Now().Add(10 * time.Second)
		for answered(sbs[0])+answered(sbs[1]) < i+1 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if answered(other) == 0 {
		t.Fatalf("no call reached the phone through the instance that did not take its REGISTER (answered: %d and %d)",
			answered(sbs[0]), answered(sbs[1]))
	}
	if !phone.HasEvent("CALL_ESTABLISHED") {
		t.Error("the phone never reported an established call")
	}
	t.Logf("registered through instance %d; answered calls: instance 0 %d, instance 1 %d", holder, answered(sbs[0]), answered(sbs[1]))
}

// registeredHere reports whether sb logged a new binding of user.
func registeredHere(sb *SB, user string) bool {
	for _, l := range strings.Split(sb.Output(), "\n") {
		if strings.Contains(l, "msg=registered ") && strings.Contains(l, " user="+user+" ") {
			return true
		}
	}
	return false
}
