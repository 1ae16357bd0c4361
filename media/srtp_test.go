package media

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestParseCrypto(t *testing.T) {
	for _, tc := range []struct {
		in    string
		suite string
		ok    bool
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4", "", false}, // MKI
		{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20", SuiteSHA1_80, true},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj", SuiteSHA1_32, true},
		{"3 AEAD_AES_128_GCM inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", SuiteGCM128, true},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=", "", false},
		{"1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "", false},
		{"x AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "", false},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz UNENCRYPTED_SRTP", "", false},
		{"1 AES_CM_128_HMAC_SHA1_80", "", false},
	} {
		c, err := ParseCrypto(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseCrypto(%q) err = %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if c.Suite != tc.suite {
			t.Errorf("suite %q, want %q", c.Suite, tc.suite)
		}
		if c.String() != tc.in {
			t.Errorf("String() = %q, want %q", c.String(), tc.in)
		}
	}
}

func TestNewCryptoRandom(t *testing.T) {
	for _, s := range Suites {
		a, err := NewCrypto(1, s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewCrypto(1, s)
		if a.Equal(b) {
			t.Fatalf("%s: two keys equal", s)
		}
		p, err := ParseCrypto(a.String())
		if err != nil || !p.Equal(a) {
			t.Fatalf("%s: round trip %v", s, err)
		}
	}
}

// stagePair returns a sender's stage and a receiver's stage keyed by one
// SDES exchange.
func stagePair(t *testing.T, suite string) (snd, rcv *Endpoint) {
	t.Helper()
	a, _ := NewCrypto(1, suite)
	b, _ := NewCrypto(1, suite)
	snd, rcv = &Endpoint{}, &Endpoint{}
	if err := snd.SetSRTP(SDES{Local: a, Remote: b}); err != nil {
		t.Fatal(err)
	}
	if err := rcv.SetSRTP(SDES{Local: b, Remote: a}); err != nil {
		t.Fatal(err)
	}
	return snd, rcv
}

func srtpRoundTrip(t *testing.T, snd, rcv *Endpoint, seq uint16) {
	t.Helper()
	pkt := append(rtpPacket(0, seq, uint32(seq)*160, 0x1234, false)[:12], bytes.Repeat([]byte{0xd5}, 160)...)
	tx := snd.srtp.Load().tx
	enc, err := tx.ctx.EncryptRTP(nil, pkt, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.seen(0x1234) // as sendSRTP does
	if bytes.Contains(enc, bytes.Repeat([]byte{0xd5}, 16)) {
		t.Fatal("payload on the wire in the clear")
	}
	dec, ok := rcv.srtp.Load().unprotectRTP(enc)
	if !ok || !bytes.Equal(dec, pkt) {
		t.Fatalf("seq %d: unprotect ok=%v", seq, ok)
	}
}

func TestSRTPStageRoundTrip(t *testing.T) {
	for _, s := range Suites {
		t.Run(s, func(t *testing.T) {
			snd, rcv := stagePair(t, s)
			for i := range 5 {
				srtpRoundTrip(t, snd, rcv, uint16(i))
			}
			// A tampered packet fails authentication.
			pkt := append(rtpPacket(0, 9, 9*160, 0x1234, false)[:12], make([]byte, 160)...)
			enc, _ := snd.srtp.Load().tx.ctx.EncryptRTP(nil, pkt, nil)
			good := append([]byte(nil), enc...)
			enc[20] ^= 1
			if _, ok := rcv.srtp.Load().unprotectRTP(enc); ok {
				t.Fatal("tampered packet accepted")
			}
			// A replayed packet is refused (RFC 3711 §3.3.2).
			if _, ok := rcv.srtp.Load().unprotectRTP(good); !ok {
				t.Fatal("first copy refused")
			}
			if _, ok := rcv.srtp.Load().unprotectRTP(good); ok {
				t.Fatal("replayed packet accepted")
			}
		})
	}
}

// TestSRTPRekeyKeepsROC: across a wrap of the sequence number a re-INVITE
// with the same keys keeps the context, and one with new keys carries the
// ROC of each stream on.
func TestSRTPRekeyKeepsROC(t *testing.T) {
	a, _ := NewCrypto(1, SuiteSHA1_80)
	b, _ := NewCrypto(1, SuiteSHA1_80)
	snd, rcv := &Endpoint{}, &Endpoint{}
	_ = snd.SetSRTP(SDES{Local: a, Remote: b})
	_ = rcv.SetSRTP(SDES{Local: b, Remote: a})
	for seq := 65530; seq < 65536+5; seq++ {
		srtpRoundTrip(t, snd, rcv, uint16(seq))
	}
	old := rcv.srtp.Load().rx
	_ = rcv.SetSRTP(SDES{Local: b, Remote: a}) // same keys
	if rcv.srtp.Load().rx != old {
		t.Fatal("same keys: context replaced")
	}
	a2, _ := NewCrypto(2, SuiteSHA1_80)
	_ = snd.SetSRTP(SDES{Local: a2, Remote: b})
	_ = rcv.SetSRTP(SDES{Local: b, Remote: a2})
	if roc, ok := rcv.srtp.Load().rx.ctx.ROC(0x1234); !ok || roc != 1 {
		t.Fatalf("ROC after re-key = %d, %v; want 1", roc, ok)
	}
	if roc, ok := snd.srtp.Load().tx.ctx.ROC(0x1234); !ok || roc != 1 {
		t.Fatalf("sender ROC after re-key = %d, %v; want 1", roc, ok)
	}
	for seq := 5; seq < 10; seq++ {
		srtpRoundTrip(t, snd, rcv, uint16(seq))
	}
}

// BenchmarkSRTPStage measures what the SRTP stage adds to one relayed
// packet of 160 bytes: unprotect on the receiving leg and protect with the
// other leg's keys (the socket work is BenchmarkRelayPacket's).
func BenchmarkSRTPStage(b *testing.B) {
	for _, s := range Suites {
		b.Run(s, func(b *testing.B) {
			a, _ := NewCrypto(1, s)
			k, _ := NewCrypto(1, s)
			in, out := &Endpoint{}, &Endpoint{}
			_ = in.SetSRTP(SDES{Local: k, Remote: a})
			_ = out.SetSRTP(SDES{Local: k, Remote: a})
			peer, _ := newSRTPDir(SRTPKeys{s, a.Key, a.Salt}, false)
			pkt := append(rtpPacket(0, 0, 0, 0x1234, false)[:12], make([]byte, 160)...)
			wire := make([]byte, srtpMax)
			st, tx := in.srtp.Load(), out.srtp.Load().tx
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pkt[2], pkt[3] = byte(i>>8), byte(i)
				enc, err := peer.ctx.EncryptRTP(wire[:0], pkt, &peer.hdr)
				if err != nil {
					b.Fatal(err)
				}
				dec, ok := st.unprotectRTP(enc)
				if !ok {
					b.Fatal("unprotect")
				}
				tx.mu.Lock()
				if _, err := tx.ctx.EncryptRTP(tx.buf[:0], dec, &tx.hdr); err != nil {
					b.Fatal(err)
				}
				tx.mu.Unlock()
				i++
			}
		})
	}
}

// TestSessionCrypto: a session with keys writes RTP/SAVP or RTP/AVP and
// its a=crypto lines, ParseSDP reads them back, and a change of keys
// moves the o= version.
func TestSessionCrypto(t *testing.T) {
	s := NewSession()
	addr := netip.MustParseAddrPort("192.0.2.1:4000")
	codecs := []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}
	plain := s.Build(addr, codecs, SendRecv, 0)
	if bytes.Contains(plain, []byte("a=crypto")) || !bytes.Contains(plain, []byte("RTP/AVP 0")) {
		t.Fatalf("plain:\n%s", plain)
	}
	k1, _ := NewCrypto(1, SuiteSHA1_80)
	k2, _ := NewCrypto(2, SuiteGCM128)
	for _, savp := range []bool{false, true} {
		s.SetCrypto(savp, []Crypto{k1, k2})
		v := s.Version()
		body := s.Build(addr, codecs, SendRecv, 0)
		if s.Version() == v {
			t.Fatal("version did not move")
		}
		d, err := ParseSDP(body)
		if err != nil {
			t.Fatal(err)
		}
		if SecureProto(d.Proto) != savp || len(d.Crypto) != 2 || !d.Crypto[0].Equal(k1) || d.Crypto[1].Tag != 2 || !d.Crypto[1].Equal(k2) {
			t.Fatalf("savp %v: parsed %+v from\n%s", savp, d, body)
		}
	}
}

// TestSRTPRekeyTransition: after the peer offered a new key, what it
// still sends with the old one is accepted until a packet arrives with
// the new one (RFC 4568 §7.1.4); the old key is refused after that.
func TestSRTPRekeyTransition(t *testing.T) {
	a, _ := NewCrypto(1, SuiteSHA1_80)
	b, _ := NewCrypto(1, SuiteSHA1_80)
	a2, _ := NewCrypto(1, SuiteSHA1_80)
	rcv := &Endpoint{}
	_ = rcv.SetSRTP(SDES{Local: b, Remote: a})
	oldKey, _ := newSRTPDir(SRTPKeys{a.Suite, a.Key, a.Salt}, false)
	newKey, _ := newSRTPDir(SRTPKeys{a2.Suite, a2.Key, a2.Salt}, false)
	send := func(d *srtpDir, seq uint16) []byte {
		pkt := append(rtpPacket(0, seq, uint32(seq)*160, 0x1234, false)[:12], make([]byte, 160)...)
		enc, err := d.ctx.EncryptRTP(nil, pkt, nil)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	if _, ok := rcv.srtp.Load().unprotectRTP(send(oldKey, 1)); !ok {
		t.Fatal("old key refused before the re-key")
	}
	_ = rcv.SetSRTP(SDES{Local: b, Remote: a2})
	newKey.ctx.SetROC(0x1234, 0)
	for _, c := range []struct {
		d    *srtpDir
		seq  uint16
		want bool
	}{{oldKey, 2, true}, {oldKey, 3, true}, {newKey, 4, true}, {oldKey, 5, false}, {newKey, 6, true}} {
		if _, ok := rcv.srtp.Load().unprotectRTP(send(c.d, c.seq)); ok != c.want {
			t.Fatalf("seq %d: accepted %v, want %v", c.seq, ok, c.want)
		}
	}
}
