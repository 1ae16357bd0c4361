package b2bua

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/media"
)

func TestWebRTCRoles(t *testing.T) {
	for _, tt := range []struct {
		offered, established, want string
		err                        bool
	}{
		{media.SetupActpass, "", media.SetupActive, false},
		{"", "", media.SetupActive, false},
		{media.SetupActive, "", media.SetupPassive, false},
		{media.SetupPassive, "", media.SetupActive, false},
		{media.SetupActpass, media.SetupPassive, media.SetupPassive, false}, // re-offer keeps the role
		{"holdconn", "", "", true},
	} {
		got, err := answerRole(tt.offered, tt.established)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("answerRole(%q, %q) = %q, %v; want %q", tt.offered, tt.established, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		answered, want string
		err            bool
	}{{media.SetupActive, media.SetupPassive, false}, {"", media.SetupPassive, false}, {media.SetupPassive, media.SetupActive, false}, {media.SetupActpass, "", true}} {
		got, err := roleOfAnswer(tt.answered)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("roleOfAnswer(%q) = %q, %v; want %q", tt.answered, got, err, tt.want)
		}
	}
}

func TestWebRTCOfferAndRefusals(t *testing.T) {
	cert, err := media.NewDTLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	st := &legSRTP{rtc: legWebRTC{profile: ProfileWebRTC, cert: cert}}
	sess := media.NewSession()
	if err := st.offer(sess); err != nil {
		t.Fatal(err)
	}
	w := sess.WebRTC()
	if w == nil || w.Setup != media.SetupActpass || w.Fingerprint != cert.Fingerprint() || !w.Lite || w.Mid != "0" || !w.Bundle || len(st.rtc.ice.Pwd) < 22 {
		t.Fatalf("offer %+v", w)
	}
	// A re-offer keeps credentials and fingerprint (RFC 5763 §5).
	ice := st.rtc.ice
	if err := st.offer(sess); err != nil || sess.WebRTC().ICE != ice {
		t.Fatalf("re-offer %v %+v", err, sess.WebRTC())
	}
	ep := &media.Endpoint{}
	if err := st.takeAnswer(sess, ep, &media.Description{Proto: "RTP/AVP"}); !errors.Is(err, errWebRTCAttrs) {
		t.Fatalf("plain answer to a WebRTC offer: %v", err)
	}
	if err := st.answerOffer(sess, ep, &media.Description{Proto: "RTP/AVP"}); !errors.Is(err, errWebRTCPlain) {
		t.Fatalf("plain re-offer on a WebRTC leg: %v", err)
	}
	fresh := &legSRTP{rtc: legWebRTC{cert: cert}}
	if err := fresh.answerOffer(sess, ep, &media.Description{Proto: media.ProtoWebRTC, WebRTC: &media.WebRTC{Fingerprint: "sha-256 AA"}}); !errors.Is(err, errWebRTCAttrs) {
		t.Fatalf("offer without ICE credentials: %v", err)
	}
	noCert := &legSRTP{rtc: legWebRTC{profile: ProfileWebRTC}}
	if err := noCert.offer(media.NewSession()); !errors.Is(err, errWebRTCCert) {
		t.Fatalf("offer without a certificate: %v", err)
	}
}
