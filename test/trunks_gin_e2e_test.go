package test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTrunkRegisterGIN: a trunk with register.gin registers the RFC 6140
// way with a carrier played by sipp, whose scenario fails unless the
// REGISTER has a Contact without a user part carrying bnc and Require
// and Proxy-Require gin. The carrier then calls two of the trunk's
// numbers at the registered contact (the number as Request-URI user,
// from the address registered with, no digest); both are taken as the
// trunk's calls and routed by their number (to the echo service, for
// calls from trunk:carrier only).
func TestTrunkRegisterGIN(t *testing.T) {
	requireTool(t, "sipp")
	port := sigPeerPort()
	dir := t.TempDir()
	carrier := writeScenario(t, "uas-gin-register", `<recv request="REGISTER">
<action>
<ereg regexp="&lt;sip:127\.0\.0\.1:[0-9]+;bnc&gt;" search_in="hdr" header="Contact:" check_it="true" assign_to="bnc"/>
<ereg regexp="gin" search_in="hdr" header="Require:" check_it="true" assign_to="req"/>
<ereg regexp="gin" search_in="hdr" header="Proxy-Require:" check_it="true" assign_to="preq"/>
</action>
</recv>
<send>`+cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Contact:];expires=3600
X-Seen: [$bnc] [$req] [$preq]
Content-Length: 0
`)+`</send>`)
	regDone := make(chan Sipp, 1)
	go func() {
		regDone <- runSipp(t, dir, 40*time.Second, "-sf", carrier, "-i", "127.0.0.2", "-p", fmt.Sprint(port),
			"-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", port))
	sb := startSB(t, SBOptions{
		Trunks: fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", register: {username: acct, password: not-asked-by-this-carrier, gin: true}}`, port),
		Routes: `  - {match: '^555100[12]$', source: [trunk:carrier], to: echo}`})
	sippOK(t, "carrier registrar", <-regDone)
	waitFor(t, 10*time.Second, "registered with the carrier", func() bool { return strings.Contains(sb.Output(), "trunk registered") })

	call := writeScenario(t, "uac-gin", `<send retrans="500">`+cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length: [len]

`+sdp("sendrecv"))+`</send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200"/>
`, uacAck("1"), `<pause milliseconds="200"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
	for _, did := range []string{"5551001", "5551002"} {
		sippOK(t, "carrier calling "+did, sigCall(t, dir, call, sb, "127.0.0.2", port, "carrier", did))
	}
	recs := sb.WaitCDRs(2, 10*time.Second)
	if len(recs) != 2 {
		t.Fatalf("%d CDRs, want 2", len(recs))
	}
	for i, did := range []string{"5551001", "5551002"} {
		c := recs[i]
		expectCDR(t, c, 200, "answered", "caller")
		if c.Caller != "trunk:carrier" || c.SourceTrunk != "carrier" || c.Dialled != did {
			t.Errorf("CDR %d: caller %q source_trunk %q dialled %q, want trunk:carrier, carrier, %s", i, c.Caller, c.SourceTrunk, c.Dialled, did)
		}
	}
}
