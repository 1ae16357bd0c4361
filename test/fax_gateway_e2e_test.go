//go:build cgo

package test

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/media/rtp"
	"github.com/switchboard/switchboard/test/faxpeer"
)

// g711FaxMachine runs a faxpeer G.711 fax machine on an RTP socket in real
// time (PCMU, 20 ms packets): what arrives is decoded into a short queue
// the machine hears one frame per tick, what it sends is encoded and sent
// back to where Switchboard's RTP comes from. It returns when the T.30
// session ends or the deadline passes.
func g711FaxMachine(conn *net.UDPConn, m *faxpeer.Audio, deadline time.Time) error {
	enc, err := codecs.PCMU().NewEncoder(codecs.Params{})
	if err != nil {
		return err
	}
	dec, err := codecs.PCMU().NewDecoder(codecs.Params{})
	if err != nil {
		return err
	}
	var (
		dst      *net.UDPAddr
		queue    [][]int16
		buf      = make([]byte, 1500)
		pkt      = make([]byte, 12+faxpeer.FrameSamples)
		in, out  = make([]int16, faxpeer.FrameSamples), make([]int16, faxpeer.FrameSamples)
		seq      uint16
		ts       uint32
		next     = time.Now()
		buffered bool
	)
	for !m.Result().Done {
		if time.Now().After(deadline) {
			return fmt.Errorf("G.711 fax not finished: %+v", m.Result())
		}
		clear(in)
		if len(queue) >= 3 {
			buffered = true // a little jitter buffer
		}
		if buffered && len(queue) > 0 {
			copy(in, queue[0])
			queue = queue[1:]
		}
		m.Tick(in, out)
		if dst != nil {
			h := rtp.Header{PT: 0, Seq: seq, TS: ts, SSRC: 0x5eed}
			n := h.PutFixed(pkt)
			k, err := enc.Encode(out, pkt[n:])
			if err == nil {
				_, _ = conn.WriteToUDP(pkt[:n+k], dst)
			}
		}
		seq++
		ts += faxpeer.FrameSamples
		next = next.Add(20 * time.Millisecond)
		for {
			_ = conn.SetReadDeadline(next)
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				break
			}
			h, ok := rtp.Parse(buf[:n])
			if !ok || h.PT != 0 {
				continue
			}
			dst = from
			pcm := make([]int16, faxpeer.FrameSamples)
			if _, err := dec.Decode(h.Payload(buf[:n]), pcm); err == nil {
				queue = append(queue, pcm)
			}
			if len(queue) > 10 {
				queue = queue[len(queue)-10:]
			}
		}
	}
	return nil
}

// TestFaxT38Gatewayed (issue 17): the caller's fax switches to T.38 by
// re-INVITE, the callee (a G.711 fax machine) refuses it with 488, and
// Switchboard gateways the fax itself: the caller is answered 200 with
// T.38 at Switchboard's port, and spandsp's t38_gateway turns its UDPTL
// into fax tones on the callee's PCMU and back. The caller's T.38
// terminal sends a one-page TIFF; the callee's received TIFF has the page
// sent, pixel for pixel, both T.30 sessions end OK, and the CDR says
// t38-gatewayed with the page counted.
func TestFaxT38Gatewayed(t *testing.T) {
	t.Parallel()
	f := newFaxCase(t)
	dir := t.TempDir()
	sent := []faxpeer.Page{faxpeer.TestPage(120, 3)}
	txPath, rxPath := filepath.Join(dir, "tx.tif"), filepath.Join(dir, "rx.tif")
	if err := faxpeer.WriteTIFF(txPath, sent); err != nil {
		t.Fatal(err)
	}
	audio, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}) // the callee's -mi
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audio.Close() })
	audioPort := strconv.Itoa(audio.LocalAddr().(*net.UDPAddr).Port)
	tx := faxpeer.NewT38(faxpeer.Options{Calling: true, Send: true, File: txPath, ECM: true, MaxBitRate: 14400}, 2)
	rx := faxpeer.NewAudio(faxpeer.Options{File: rxPath, ECM: true, MaxBitRate: 14400})
	t.Cleanup(func() { tx.Close(); rx.Close() })
	uas := writeScenario(t, "uas-t38-gateway", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		replyWith("200", "OK", true, sdpAt(audioPort, "0", "a=rtpmap:0 PCMU/8000\n")), `<recv request="ACK"/>`,
		`<recv request="INVITE"/>`, replyNoTag("488", "Not Acceptable Here", false, ""), `<recv request="ACK"/>`,
		`<recv request="BYE" timeout="60000"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-t38-gateway", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", t38SDP(f.peerA.port(), 14400, 400)), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+capturePort(f.fileA, "T38MaxBitRate:14400")+`</recv>`,
		uacAck("3"), `<pause milliseconds="32000"/>`,
		uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`, refs("img", "t38attrs"))...)
	c := faxCall(t,
		func(deadline time.Time) error { return faxMachine(f.peerA, f.fileA, tx, deadline) },
		func(deadline time.Time) error { return g711FaxMachine(audio, rx, deadline) },
		func() CDR { return callCase(t, SBOptions{}, uas, uac) })
	checkFaxReceived(t, rx.Result(), tx.Result(), rxPath, sent)
	if c.Fax != "t38-gatewayed" {
		t.Errorf("CDR fax %q, want t38-gatewayed", c.Fax)
	}
	if c.FaxPages != 1 {
		t.Errorf("CDR fax_pages %d, want 1", c.FaxPages)
	}
}
