//go:build cgo

package test

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/test/faxpeer"
)

// faxMachine runs a faxpeer T.38 terminal on a UDPTL peer socket in real
// time, toward the Switchboard port written in portFile, until its T.30
// session ends or the deadline passes.
func faxMachine(p *udptlPeer, portFile string, term *faxpeer.T38, deadline time.Time) error {
	port, err := readPort(portFile, deadline)
	if err != nil {
		return err
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	send := func(d []byte) { _, _ = p.conn.WriteToUDP(d, dst) }
	buf := make([]byte, 1500)
	next := time.Now()
	for !term.Result().Done {

		if time.Now().After(deadline) {
			return fmt.Errorf("fax not finished: %+v", term.Result())
		}
		term.Tick(send)
		next = next.Add(20 * time.Millisecond)
		for {
			_ = p.conn.SetReadDeadline(next)
			n, _, err := p.conn.ReadFromUDP(buf)
			if err != nil {
				break
			}
			term.Receive(buf[:n], send)
		}
	}
	return nil
}

// TestFaxT38RelayedImage (issue 17): a real fax between two T.38
// terminals (spandsp's, test/faxpeer) through Switchboard's UDPTL relay:
// the caller switches to T.38 by re-INVITE and sends a one-page TIFF at
// 14400 bit/s; the callee's received TIFF has the page sent, pixel for
// pixel, both T.30 sessions end OK, and the CDR says t38-relayed. A fax
// takes about 18 s of T.30 here; the caller hangs up after 28 s.
func TestFaxT38RelayedImage(t *testing.T) {
	t.Parallel()
	f := newFaxCase(t)
	dir := t.TempDir()
	sent := []faxpeer.Page{faxpeer.TestPage(120, 3)}
	txPath, rxPath := filepath.Join(dir, "tx.tif"), filepath.Join(dir, "rx.tif")
	if err := faxpeer.WriteTIFF(txPath, sent); err != nil {
		t.Fatal(err)
	}
	tx := faxpeer.NewT38(faxpeer.Options{Calling: true, Send: true, File: txPath, ECM: true, MaxBitRate: 14400}, 2)
	rx := faxpeer.NewT38(faxpeer.Options{File: rxPath, ECM: true, MaxBitRate: 14400}, 2)
	t.Cleanup(func() { tx.Close(); rx.Close() })
	uas := writeScenario(t, "uas-t38-image", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE">`+capturePort(f.fileB, "T38MaxBitRate:14400")+`</recv>`,
		replyWith("200", "OK", false, t38SDP(f.peerB.port(), 14400, 400)), `<recv request="ACK"/>`,
		`<recv request="BYE" timeout="60000"/>`, replyNoTag("200", "OK", false, ""), refs("img", "t38attrs"))...)
	uac := writeScenario(t, "uac-t38-image", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", t38SDP(f.peerA.port(), 14400, 400)), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+capturePort(f.fileA, "T38MaxBitRate:14400")+`</recv>`,
		uacAck("3"), `<pause milliseconds="28000"/>`,
		uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`, refs("img", "t38attrs"))...)
	c := faxCall(t,
		func(deadline time.Time) error { return faxMachine(f.peerA, f.fileA, tx, deadline) },
		func(deadline time.Time) error { return faxMachine(f.peerB, f.fileB, rx, deadline) },
		func() CDR { return callCaseEcho(t, SBOptions{}, uas, uac) })
	checkFaxReceived(t, rx.Result(), tx.Result(), rxPath, sent)
	if c.Fax != "t38-relayed" {
		t.Errorf("CDR fax %q, want t38-relayed", c.Fax)
	}
}

// faxCall runs the sending and the receiving fax machine beside the call
// (call plays it and returns its record), fails the test if either did
// not finish within 50 s, and checks the record's status.
func faxCall(t *testing.T, sender, receiver func(deadline time.Time) error, call func() CDR) CDR {
	t.Helper()
	deadline := time.Now().Add(50 * time.Second)
	errc := make(chan error, 2)
	start := time.Now()
	var took [2]time.Duration
	for i, m := range []func(time.Time) error{sender, receiver} {
		go func() { err := m(deadline); took[i] = time.Since(start); errc <- err }()
	}
	c := call()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("the fax machines were done after %.1f s and %.1f s", took[0].Seconds(), took[1].Seconds())
	expectCDR(t, c, 200, "answered", "caller")
	return c
}

// checkFaxReceived asserts that both T.30 sessions ended OK with one page
// received, and that the TIFF at rxPath has the pages sent, pixel for
// pixel.
func checkFaxReceived(t *testing.T, r, s faxpeer.Result, rxPath string, sent []faxpeer.Page) {
	t.Helper()
	if r.Code != 0 || s.Code != 0 || r.Pages != 1 {
		t.Fatalf("T.30 results: receiver %+v, sender %+v", r, s)
	}
	got, err := faxpeer.ReadTIFF(rxPath)
	if err != nil {
		t.Fatal(err)
	}
	if d := faxpeer.Diff(sent, got); d != "" {
		t.Fatal(d)
	}
}
