package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/cputime"
)

// BenchmarkRelaySRTP is BenchmarkRelayPacket (one packet in lockstep
// through the relay over loopback, 0 allocations) with SRTP: "plain" is
// the plain relay for the ratio; srtp-srtp/SUITE has both legs on SRTP,
// each with its own keys (decrypt with leg a's, rewrite, encrypt with leg
// b's); srtp-rtp/SUITE decrypts and relays to a plain leg. The peers'
// own protect and unprotect run in the loop too (about what the relay
// adds, see BenchmarkSRTPStage), so the ratio to "plain" overstates
// Switchboard's share a little. Wall time per packet is mostly the
// loopback wake-ups; cpu-ns/op is the process's CPU (relay and peers)
// per packet, and x-plain its ratio to the plain relay's. A relayed call
// is 100 packets a second (50 each way): cpu-ns/op × 100 is a call's
// nanoseconds of CPU per second.
func BenchmarkRelaySRTP(b *testing.B) {
	var plain float64
	measure := func(b *testing.B, setup func(*call)) {
		t0 := processCPU()
		benchRelayPacket(b, setup)
		cpu := float64(processCPU()-t0) / float64(b.N)
		b.ReportMetric(cpu, "cpu-ns/op")
		if setup == nil {
			plain = cpu
		} else if plain > 0 {
			b.ReportMetric(cpu/plain, "x-plain")
		}
	}
	b.Run("plain", func(b *testing.B) { measure(b, nil) })
	for _, suite := range Suites {
		for _, bothSRTP := range []bool{true, false} {
			name := "srtp-srtp/" + suite
			if !bothSRTP {
				name = "srtp-rtp/" + suite
			}
			b.Run(name, func(b *testing.B) { measure(b, srtpBenchSetup(b, suite, bothSRTP)) })
		}
	}
}

// processCPU is the process's user and system CPU time so far, in ns.
func processCPU() int64 { return cputime.Process().Nanoseconds() }

// srtpBenchSetup keys leg a (and leg b when bothSRTP) with SDES keys of
// their own and gives the peers the other halves.
func srtpBenchSetup(b *testing.B, suite string, bothSRTP bool) func(*call) {
	return func(c *call) {
		keys := func() Crypto { k, _ := NewCrypto(1, suite); return k }
		peerA, sbA := keys(), keys()
		if err := c.a.SetSRTP(SDES{Local: sbA, Remote: peerA}); err != nil {
			b.Fatal(err)
		}
		seal, _ := newSRTPDir(SRTPKeys{suite, peerA.Key, peerA.Salt}, false)
		c.seal = func(pkt []byte) []byte {
			out, err := seal.ctx.EncryptRTP(seal.buf[:0], pkt, &seal.hdr)
			if err != nil {
				b.Fatal(err)
			}
			return out
		}
		if !bothSRTP {
			return
		}
		peerB, sbB := keys(), keys()
		if err := c.b.SetSRTP(SDES{Local: sbB, Remote: peerB}); err != nil {
			b.Fatal(err)
		}
		open, _ := newSRTPDir(SRTPKeys{suite, sbB.Key, sbB.Salt}, true)
		c.open = func(pkt []byte) bool {
			_, err := open.ctx.DecryptRTP(open.buf[:0], pkt, &open.hdr)
			return err == nil
		}
	}
}

// BenchmarkRelaySRTPPath measures the relay's CPU per packet on the
// calling goroutine, without the loopback round trip that dominates
// BenchmarkRelaySRTP: Endpoint a's receive path (SRTP unprotect, parse,
// latch, PT map, rewrite) then Endpoint b's write (SRTP protect, one
// sendto that nobody reads). The packets peer a would send are protected
// ahead, in batches outside the timer. "plain" is the same path without
// SRTP; x-plain is each case's ns/op over plain's. The path leaves out
// the read and epoll wake-up of a real packet, which cost about as much
// as its sendto, so the factor of a whole relayed packet is smaller.
func BenchmarkRelaySRTPPath(b *testing.B) {
	var plain float64
	run := func(b *testing.B, setup func(*call)) {
		addr := netip.MustParseAddr("127.0.0.1")
		e := newTestEngine(b, addr, 2, nil)
		c := newBenchCall(b, e, addr)
		if setup != nil {
			setup(c)
		}
		src := c.pa.addr()
		const batch = 1024
		ring := make([][]byte, batch)
		seq := 0
		fill := func() {
			for i := range ring {
				pkt := append(rtpPacket(0, uint16(seq), uint32(seq*160), 0x1234, false)[:12], make([]byte, 160)...)
				if c.seal != nil {
					pkt = append([]byte(nil), c.seal(pkt)...)
				}
				ring[i] = pkt
				seq++
			}
		}
		fill()
		now := time.Now().UnixNano()
		for i := range 10 { // latch
			c.a.receive(ring[i], src, now)
		}
		b.ReportAllocs()
		i := 10
		for b.Loop() {
			if i == batch {
				b.StopTimer()
				fill()
				i = 0
				b.StartTimer()
			}
			c.a.receive(ring[i], src, now+int64(seq)*20e6)
			i++
		}
		if st := c.a.Stats(); st.SRTPFailed > 0 {
			b.Fatalf("%d packets failed to unprotect", st.SRTPFailed)
		}
		if st := c.b.Stats(); st.PacketsOut < uint64(b.N) {
			b.Fatalf("only %d of %d packets relayed", st.PacketsOut, b.N)
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if setup == nil {
			plain = ns
		} else if plain > 0 {
			b.ReportMetric(ns/plain, "x-plain")
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, nil) })
	for _, suite := range Suites {
		b.Run("srtp-srtp/"+suite, func(b *testing.B) { run(b, srtpBenchSetup(b, suite, true)) })
		b.Run("srtp-rtp/"+suite, func(b *testing.B) { run(b, srtpBenchSetup(b, suite, false)) })
	}
}

// BenchmarkSRTPCallSetup is the media side of keying an SRTP↔SRTP call:
// Switchboard's keys (three offered on one leg, one answered on the
// other), the peers' a=crypto parsed, and both endpoints' SRTP stages
// created (four contexts and their key derivation, RFC 3711 §4.3).
func BenchmarkSRTPCallSetup(b *testing.B) {
	pa, _ := NewCrypto(1, SuiteSHA1_80)
	pb, _ := NewCrypto(1, SuiteSHA1_80)
	wa, wb := pa.String(), pb.String()
	b.ReportAllocs()
	for b.Loop() {
		var offered []Crypto
		for i, s := range Suites {
			k, err := NewCrypto(i+1, s)
			if err != nil {
				b.Fatal(err)
			}
			offered = append(offered, k)
		}
		answer, _ := NewCrypto(1, SuiteSHA1_80)
		ra, err1 := ParseCrypto(wa)
		rb, err2 := ParseCrypto(wb)
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		a, bb := &Endpoint{}, &Endpoint{}
		if err := a.SetSRTP(SDES{Local: answer, Remote: ra}); err != nil {
			b.Fatal(err)
		}
		if err := bb.SetSRTP(SDES{Local: offered[0], Remote: rb}); err != nil {
			b.Fatal(err)
		}
	}
}
