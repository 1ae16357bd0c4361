package b2bua

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

func offerDesc(proto string, cs ...media.Crypto) *media.Description {
	return &media.Description{Proto: proto, Crypto: cs}
}

func TestSRTPAnswerOffer(t *testing.T) {
	k, _ := media.NewCrypto(7, media.SuiteSHA1_32)
	for _, tt := range []struct {
		name, mode string
		offer      *media.Description
		suite      string // "" for plain
		err        error
	}{
		{"opportunistic takes OSRTP", config.SRTPOpportunistic, offerDesc("RTP/AVP", k), media.SuiteSHA1_32, nil},
		{"opportunistic takes SAVP", config.SRTPOpportunistic, offerDesc("RTP/SAVP", k), media.SuiteSHA1_32, nil},
		{"opportunistic takes plain", config.SRTPOpportunistic, offerDesc("RTP/AVP"), "", nil},
		{"required refuses plain", config.SRTPRequired, offerDesc("RTP/AVP"), "", errSRTPRequired},
		{"off answers OSRTP plain", config.SRTPOff, offerDesc("RTP/AVP", k), "", nil},
		{"off refuses SAVP", config.SRTPOff, offerDesc("RTP/SAVP", k), "", errSRTPNoKeys},
		{"SAVP without keys", config.SRTPOpportunistic, offerDesc("RTP/SAVP"), "", errSRTPNoKeys},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &legSRTP{policy: config.SRTPPolicy{Mode: tt.mode}}
			sess, ep := media.NewSession(), &media.Endpoint{}
			err := st.answerOffer(sess, ep, tt.offer)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			want := tt.suite
			if want == "" {
				want = "none"
			}
			if got := ep.SRTPSuite(); got != want {
				t.Fatalf("suite %s, want %s", got, want)
			}
			if tt.suite != "" && (st.local.Tag != 7 || st.local.Equal(k)) {
				t.Fatalf("our key: tag %d, same as the peer's: %v", st.local.Tag, st.local.Equal(k))
			}
		})
	}
}

func TestSRTPOfferAnswer(t *testing.T) {
	for _, tt := range []struct {
		name, mode string
		answerTag  int // 0: a plain answer
		suite      string
		err        error
	}{
		{"opportunistic, SRTP answer", config.SRTPOpportunistic, 2, media.Suites[1], nil},
		{"opportunistic, plain answer", config.SRTPOpportunistic, 0, "none", nil},
		{"required, plain answer", config.SRTPRequired, 0, "", errSRTPRequired},
		{"required, SRTP answer", config.SRTPRequired, 1, media.Suites[0], nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &legSRTP{policy: config.SRTPPolicy{Mode: tt.mode}}
			sess, ep := media.NewSession(), &media.Endpoint{}
			if err := st.offer(sess); err != nil {
				t.Fatal(err)
			}
			if len(st.offered) != len(media.Suites) {
				t.Fatalf("offered %d keys", len(st.offered))
			}
			ans := offerDesc("RTP/AVP")
			if tt.answerTag > 0 {
				k, _ := media.NewCrypto(tt.answerTag, media.Suites[tt.answerTag-1])
				ans.Crypto = []media.Crypto{k}
			}
			err := st.takeAnswer(sess, ep, ans)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && ep.SRTPSuite() != tt.suite {
				t.Fatalf("suite %s, want %s", ep.SRTPSuite(), tt.suite)
			}
			// A re-offer keeps what was agreed: the key in force, or plain.
			if err == nil {
				_ = st.offer(sess)
				if tt.answerTag > 0 && (len(st.offered) != 1 || st.offered[0].Tag != tt.answerTag) {
					t.Fatalf("re-offer %+v", st.offered)
				}
			}
		})
	}
}

// TestSRTPReofferRekeys: a re-offer with the peer's new key installs it
// and keeps Switchboard's own key (and so its tag and suite); one that
// moves to another suite gets a new key of that suite.
func TestSRTPReofferRekeys(t *testing.T) {
	st := &legSRTP{policy: config.SRTPPolicy{Mode: config.SRTPOpportunistic}}
	sess, ep := media.NewSession(), &media.Endpoint{}
	k1, _ := media.NewCrypto(1, media.SuiteSHA1_80)
	if err := st.answerOffer(sess, ep, offerDesc("RTP/SAVP", k1)); err != nil {
		t.Fatal(err)
	}
	ours := st.local
	k2, _ := media.NewCrypto(1, media.SuiteSHA1_80)
	if err := st.answerOffer(sess, ep, offerDesc("RTP/SAVP", k2)); err != nil {
		t.Fatal(err)
	}
	if !st.remote.Equal(k2) || !st.local.Equal(ours) {
		t.Fatalf("after a new key: remote new %v, ours kept %v", st.remote.Equal(k2), st.local.Equal(ours))
	}
	k3, _ := media.NewCrypto(4, media.SuiteGCM128)
	if err := st.answerOffer(sess, ep, offerDesc("RTP/SAVP", k3)); err != nil {
		t.Fatal(err)
	}
	if st.local.Suite != media.SuiteGCM128 || st.local.Tag != 4 || ep.SRTPSuite() != media.SuiteGCM128 {
		t.Fatalf("suite change: ours %s tag %d, endpoint %s", st.local.Suite, st.local.Tag, ep.SRTPSuite())
	}
}
