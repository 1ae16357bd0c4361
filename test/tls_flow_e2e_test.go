package test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestTLSPhoneOnTCPReachedOverItsConnection: a phone that registered over
// TCP with a Contact nobody listens on (its own port closed, as behind a
// NAT) answers a CRLF keep-alive ping with Switchboard's pong (RFC 5626
// §4.4.1), then receives a call from a baresip over the very connection
// it registered on, and the caller's BYE after it; the call ends in one
// CDR with TCP on the callee's leg.
func TestTLSPhoneOnTCPReachedOverItsConnection(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1002"}})
	phone := newSigTCPUA(t, "127.0.0.1", sb.Addr())
	deadPort := 15000 + 10*instance() // a block of our own, nothing listens on it
	cseq := 1
	res, raw := sigRegister(t, phone, sb, "1002", "reg-"+randToken(), &cseq,
		[]string{fmt.Sprintf("<sip:1002@127.0.0.1:%d;transport=tcp>", deadPort)}, "Expires: 300")
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER over TCP: %d\n%s", res.StatusCode, raw)
	}

	// RFC 5626 §4.4.1: a double CRLF ping is answered by a CRLF pong.
	phone.send("\r\n\r\n")
	_ = phone.tcp.SetReadDeadline(time.Now().Add(2 * time.Second))
	pong := make([]byte, 2)
	if _, err := io.ReadFull(phone.rd, pong); err != nil || string(pong) != "\r\n" {
		t.Fatalf("keep-alive pong %q, %v", pong, err)
	}

	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	alice.Command(fmt.Sprintf("dial sip:1002@127.0.0.1:%d;transport=udp", sb.SIPPort))
	inv, _ := phone.awaitRequest("INVITE", 10*time.Second)
	if via := inv.Via(); via == nil || !strings.EqualFold(via.Transport, "TCP") {
		t.Fatalf("INVITE Via %v, want TCP", inv.Via())
	}
	ok := sip.NewResponseFromRequest(inv, 200, "OK", []byte(sigSDP("0")))
	ok.To().Params.Add("tag", "phone"+randToken())
	ok.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:1002@127.0.0.1:%d;transport=tcp>", deadPort)))
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	phone.send(ok.String())
	phone.awaitRequest("ACK", 5*time.Second)
	if !alice.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("caller not connected")
	}
	alice.Command("hangup")
	bye, _ := phone.awaitRequest("BYE", 5*time.Second)
	phone.respond(bye, 200, "OK")
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].TransportB != "TCP" {
		t.Fatalf("CDRs %+v", recs)
	}
}
