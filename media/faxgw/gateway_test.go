//go:build cgo

package faxgw_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/faxgw"
	"github.com/switchboard/switchboard/test/faxpeer"
)

// faxLine is a fax through one gateway in simulated time: an audio fax
// machine on the G.711 side, a T.38 terminal on the other.
type faxLine struct {
	gw        *faxgw.Gateway
	audio     *faxpeer.Audio
	t38       *faxpeer.T38
	toT38     [][]byte // datagrams from the gateway, for the terminal
	toGW      [][]byte // datagrams from the terminal, for the gateway
	gwOut     [faxgw.FrameSamples]int16
	audioOut  [faxgw.FrameSamples]int16
	lossEvery int        // drop every n-th datagram each way (0: none)
	pcm       *faxgw.PCM // drive the gateway through its Terminal adapter
	n         int
}

func newFaxLine(t testing.TB, cfg faxgw.Config, audio faxpeer.Options, t38 faxpeer.Options) *faxLine {
	l := &faxLine{}
	gw, err := faxgw.New(cfg, func(d []byte) { l.toT38 = append(l.toT38, bytes.Clone(d)) })
	if err != nil {
		t.Fatal(err)
	}
	l.gw = gw
	l.audio = faxpeer.NewAudio(audio)
	l.t38 = faxpeer.NewT38(t38, cfg.Redundancy)
	t.Cleanup(func() { l.gw.Close(); l.audio.Close(); l.t38.Close() })
	return l
}

func (l *faxLine) lost() bool {
	l.n++
	return l.lossEvery > 0 && l.n%l.lossEvery == 0
}

// tick runs 20 ms of the line.
func (l *faxLine) tick() {
	l.audio.Tick(l.gwOut[:], l.audioOut[:])
	if l.pcm != nil { // as a media.Terminal drives it
		l.pcm.WritePCM(l.audioOut[:], 8000, time.Time{})
		l.pcm.ReadPCM(l.gwOut[:], 8000)
	} else {
		l.gw.Audio(l.audioOut[:], l.gwOut[:])
	}
	l.t38.Tick(func(d []byte) { l.toGW = append(l.toGW, bytes.Clone(d)) })
	for len(l.toT38) > 0 || len(l.toGW) > 0 {
		in, out := l.toT38, l.toGW
		l.toT38, l.toGW = nil, nil
		for _, d := range in {
			if !l.lost() {
				l.t38.Receive(d, func(d []byte) { l.toGW = append(l.toGW, bytes.Clone(d)) })
			}
		}
		for _, d := range out {
			if !l.lost() {
				l.gw.ReceiveUDPTL(d)
			}
		}
	}
}

// run ticks until both machines reached phase E (or two minutes of fax
// time passed) and returns the ticks run.
func (l *faxLine) run(t testing.TB) int {
	for i := range 6000 {
		l.tick()
		if l.audio.Result().Done && l.t38.Result().Done {
			return i
		}
	}
	t.Fatalf("fax not finished after 120 s: audio %+v, t38 %+v", l.audio.Result(), l.t38.Result())
	return 0
}

func testTIFF(t testing.TB, pages int) (string, []faxpeer.Page) {
	dir := t.TempDir()
	var ps []faxpeer.Page
	for i := range pages {
		ps = append(ps, faxpeer.TestPage(240, i))
	}
	path := filepath.Join(dir, "sent.tif")
	if err := faxpeer.WriteTIFF(path, ps); err != nil {
		t.Fatal(err)
	}
	return path, ps
}

// TestGatewayFax sends a fax through the gateway both ways, with and
// without ECM and with datagrams lost under redundancy: the receiving
// machine's TIFF has the pages sent, pixel for pixel, both machines end
// with T30_ERR_OK, and the gateway counts the pages.
func TestGatewayFax(t *testing.T) {
	for _, c := range []struct {
		name      string
		fromAudio bool
		ecm       bool
		rate      int
		red, loss int
		terminal  bool
	}{
		{"audio-to-t38", true, true, 9600, 0, 0, false},
		{"t38-to-audio", false, true, 14400, 0, 0, false},
		{"audio-to-t38-noecm", true, false, 14400, 0, 0, false},
		{"t38-to-audio-redundancy-loss", false, true, 9600, 3, 7, false},
		{"audio-to-t38-terminal-adapter", true, true, 14400, 1, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sentPath, sent := testTIFF(t, 2)
			rxPath := filepath.Join(t.TempDir(), "rx.tif")
			// The machine that sends calls (T.30 without polling).
			ao := faxpeer.Options{Calling: c.fromAudio, Send: c.fromAudio, ECM: c.ecm, MaxBitRate: c.rate}
			to := faxpeer.Options{Calling: !c.fromAudio, Send: !c.fromAudio, ECM: c.ecm, MaxBitRate: c.rate}
			if c.fromAudio {
				ao.File, to.File = sentPath, rxPath
			} else {
				ao.File, to.File = rxPath, sentPath
			}
			l := newFaxLine(t, faxgw.Config{MaxBitRate: c.rate, TransferredTCF: true, Redundancy: c.red}, ao, to)
			l.lossEvery = c.loss
			if c.terminal {
				l.pcm = faxgw.NewPCM(l.gw)
			}
			ticks := l.run(t)
			ar, tr := l.audio.Result(), l.t38.Result()
			if ar.Code != 0 || tr.Code != 0 {
				t.Fatalf("fax ended with audio %+v, t38 %+v", ar, tr)
			}
			got, err := faxpeer.ReadTIFF(rxPath)
			if err != nil {
				t.Fatal(err)
			}
			if d := faxpeer.Diff(sent, got); d != "" {
				t.Fatal(d)
			}
			st := l.gw.Stats()
			if st.Pages != 2 || st.DatagramsIn == 0 || st.DatagramsOut == 0 || st.Malformed != 0 {
				t.Errorf("gateway stats %+v, want 2 pages and datagrams both ways", st)
			}
			t.Logf("%d pages in %.1f s of fax time; gateway %+v", len(got), float64(ticks)*0.02, st)
		})
	}
}
