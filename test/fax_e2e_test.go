package test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// t38SDP is an SDP whose only m-line is T.38 over UDPTL at port, with the
// given maximum bit rate and datagram size (ITU-T T.38 Annex D).
func t38SDP(port, bitRate, datagram int) string {
	return fmt.Sprintf(`v=0
o=user1 53655765 [cseq] IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=image %d udptl t38
a=T38FaxVersion:0
a=T38MaxBitRate:%d
a=T38FaxRateManagement:transferredTCF
a=T38FaxMaxDatagram:%d
a=T38FaxUdpEC:t38UDPRedundancy
`, port, bitRate, datagram)
}

// capturePort stores the port of the message's m=image line in file
// (where the test's UDPTL peers read it), and checks the T.38 attributes
// the message must carry (a regular expression after the m-line).
func capturePort(file, attrs string) string {
	return `<action>
<ereg regexp="m=image ([1-9][0-9]*) udptl t38" search_in="body" check_it="true" assign_to="img,imgport"/>
<ereg regexp="m=image [0-9]+ udptl t38.*` + attrs + `" search_in="body" check_it="true" assign_to="t38attrs"/>
<exec command="echo [$imgport] > ` + file + `"/>
</action>`
}

// udptlPeer is a fax endpoint's UDPTL socket in the test.
type udptlPeer struct {
	conn *net.UDPConn
	got  [][]byte
}

func newUDPTLPeer(t *testing.T) *udptlPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udptlPeer{conn: c}
}

func (p *udptlPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// readPort waits until the sipp scenario wrote Switchboard's T.38 port
// into file (capturePort).
func readPort(file string, deadline time.Time) (int, error) {
	for {
		raw, err := os.ReadFile(file)
		if p, perr := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && perr == nil && p > 0 {
			return p, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no Switchboard T.38 port in %s", file)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exchange has two UDPTL peers send n datagrams each (UDPTL-shaped: a
// sequence number, then a primary IFP packet whose first octet is 0, which
// the RTP path would drop) to the Switchboard ports in fileA and fileB,
// and collects what each receives. It returns an error rather than
// failing the test: it runs beside the sipp call.
func exchange(a, b *udptlPeer, fileA, fileB string, n int) error {
	ports := make([]int, 2)
	deadline := time.Now().Add(20 * time.Second)
	for i, f := range []string{fileA, fileB} {
		p, err := readPort(f, deadline)
		if err != nil {
			return err
		}
		ports[i] = p
	}
	done := make(chan struct{})
	for _, p := range []*udptlPeer{a, b} {
		go func() {
			defer func() { done <- struct{}{} }()
			buf := make([]byte, 1500)
			for {
				_ = p.conn.SetReadDeadline(time.Now().Add(time.Second))
				k, _, err := p.conn.ReadFromUDP(buf)
				if err != nil {
					return
				}
				p.got = append(p.got, bytes.Clone(buf[:k]))
			}
		}()
	}
	for i := range n {
		for j, p := range []*udptlPeer{a, b} {
			pkt := []byte{0, byte(i), 0x00, 'A' + byte(j), byte(i)} // seq, IFP (type 0), who, n
			_, _ = p.conn.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ports[j]})
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	<-done
	return nil
}

// TestFaxT38Relayed (issue 17): after an audio call is up, the caller's
// fax switches to T.38 by re-INVITE with m=image udptl t38 only. The
// callee is offered T.38 at Switchboard's port with the caller's
// attributes; the caller is answered with the attributes negotiated (the
// callee's lower bit rate and datagram size, the offer's rate management
// and error correction). UDPTL datagrams then cross in both directions,
// as they were sent. A re-INVITE back to audio brings RTP back (the callee
// echoes it), and the CDR marks the fax t38-relayed.
func TestFaxT38Relayed(t *testing.T) {
	f := newFaxCase(t)
	fileA, fileB, peerA, peerB := f.fileA, f.fileB, f.peerA, f.peerB
	uas := writeScenario(t, "uas-t38", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE">`+capturePort(fileB, "T38MaxBitRate:14400.*T38FaxRateManagement:transferredTCF.*T38FaxMaxDatagram:400.*T38FaxUdpEC:t38UDPRedundancy")+`</recv>`,
		replyWith("200", "OK", false, t38SDP(peerB.port(), 9600, 300)), `<recv request="ACK"/>`,
		`<recv request="INVITE">`+holdCheck("sendrecv")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("img", "t38attrs", "dsendrecv", "csendrecv"))...)
	uac := writeScenario(t, "uac-t38", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", t38SDP(peerA.port(), 14400, 400)), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+capturePort(fileA, "T38MaxBitRate:9600.*T38FaxRateManagement:transferredTCF.*T38FaxMaxDatagram:300.*T38FaxUdpEC:t38UDPRedundancy")+`</recv>`,
		uacAck("3"), `<pause milliseconds="3000"/>`,
		uacInDialog("INVITE", "4", "", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uacAck("4"),
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`,
		refs("img", "t38attrs", "dsendrecv", "csendrecv"))...)
	f.run(t, uas, uac)
}

// faxCase is a T.38 call between two UDPTL peers of the test: fileA and
// fileB are where the sipp caller and callee write the T.38 port
// Switchboard gave each.
type faxCase struct {
	fileA, fileB string
	peerA, peerB *udptlPeer
}

func newFaxCase(t *testing.T) *faxCase {
	dir := t.TempDir()
	return &faxCase{filepath.Join(dir, "sb-port-a"), filepath.Join(dir, "sb-port-b"), newUDPTLPeer(t), newUDPTLPeer(t)}
}

// run plays the call (the callee echoes RTP) while the peers exchange
// datagrams, then checks the fax and the record (checkFax).
func (f *faxCase) run(t *testing.T, uas, uac string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- exchange(f.peerA, f.peerB, f.fileA, f.fileB, 40) }()
	c := callCaseEcho(t, SBOptions{}, uas, uac)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	expectCDR(t, c, 200, "answered", "caller")
	checkFax(t, c, f.peerA, f.peerB)
}

// checkFax asserts that each UDPTL peer got most of the other's 40
// datagrams as sent, that the CDR marks the fax t38-relayed with the image
// stream counted both ways, and that audio flowed after the fax (the
// caller plays RTP only then).
func checkFax(t *testing.T, c CDR, peerA, peerB *udptlPeer) {
	t.Helper()
	for _, x := range []struct {
		name string
		p    *udptlPeer
		from byte
	}{{"caller", peerA, 'B'}, {"callee", peerB, 'A'}} {
		n := 0
		for _, d := range x.p.got {
			if len(d) == 5 && d[3] == x.from && d[2] == 0 {
				n++
			}
		}
		if n < 30 {
			t.Errorf("the %s's fax got %d of the 40 UDPTL datagrams sent to it (%d datagrams in all)", x.name, n, len(x.p.got))
		}
	}
	if c.Fax != "t38-relayed" {
		t.Errorf("CDR fax %q, want t38-relayed", c.Fax)
	}
	if len(c.Streams) != 1 || c.Streams[0].Media != "image" || c.Streams[0].AToBPackets < 30 || c.Streams[0].BToAPackets < 30 {
		t.Errorf("CDR streams %+v, want the image stream with the datagrams both ways", c.Streams)
	}
	if c.AToBPackets < 50 || c.BToAPackets < 30 {
		t.Errorf("audio after the fax: %d packets caller→callee, %d back; want RTP flowing again", c.AToBPackets, c.BToAPackets)
	}
}

// TestFaxT38GatewayBackToAudio: the callee refuses the caller's T.38
// re-INVITE with 488; its audio is G.711, so Switchboard gateways the fax
// (fax_gateway_e2e_test.go carries a real fax that way) and answers the
// caller 200. The caller's re-INVITE back to audio tears the gateway down
// and the call's bridge carries RTP again (the callee echoes it); the CDR
// says t38-gatewayed.
func TestFaxT38GatewayBackToAudio(t *testing.T) {
	uas := writeScenario(t, "uas-t38-gw-back", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE"/>`, replyNoTag("488", "Not Acceptable Here", false, ""), `<recv request="ACK"/>`,
		`<recv request="INVITE"/>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))...)
	uac := writeScenario(t, "uac-t38-gw-back", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", t38SDP(9, 14400, 400)), `<recv response="100" optional="true"/>`,
		`<recv response="200"/>`, uacAck("3"), `<pause milliseconds="1000"/>`,
		uacInDialog("INVITE", "4", "", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200"/>`, uacAck("4"),
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`)...)
	c := callCaseEcho(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Fax != "t38-gatewayed" {
		t.Errorf("CDR fax %q, want t38-gatewayed", c.Fax)
	}
	if c.AToBPackets < 50 || c.BToAPackets < 30 {
		t.Errorf("audio after the gateway: %d packets caller→callee, %d back", c.AToBPackets, c.BToAPackets)
	}
}

// TestFaxT38FromCallee is TestFaxT38Relayed with the callee's fax
// switching to T.38 and back: the caller is offered T.38 at Switchboard's
// port, the callee answered with the caller's attributes as negotiated.
func TestFaxT38FromCallee(t *testing.T) {
	f := newFaxCase(t)
	fileA, fileB, peerA, peerB := f.fileA, f.fileB, f.peerA, f.peerB
	uas := writeScenario(t, "uas-t38-callee", append(calleeAnswered(`<recv request="INVITE">`+captureFrom+`</recv>`),
		`<pause milliseconds="500"/>`, uasInDialog("INVITE", "1", t38SDP(peerB.port(), 14400, 400)), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+capturePort(fileB, "T38MaxBitRate:9600.*T38FaxMaxDatagram:300")+`</recv>`, uasAck("1"),
		`<pause milliseconds="3000"/>`,
		uasInDialog("INVITE", "2", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uasAck("2"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("img", "t38attrs", "dsendrecv", "csendrecv"))...)
	uac := writeScenario(t, "uac-t38-callee", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<recv request="INVITE" timeout="10000">`+capturePort(fileA, "T38MaxBitRate:14400.*T38FaxMaxDatagram:400")+`</recv>`,
		replyWith("200", "OK", false, t38SDP(peerA.port(), 9600, 300)), `<recv request="ACK"/>`,
		`<recv request="INVITE" timeout="10000">`+holdCheck("sendrecv")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`,
		refs("img", "t38attrs", "dsendrecv", "csendrecv"))
	f.run(t, uas, uac)
}
