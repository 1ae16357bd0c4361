package config

import "fmt"

// SRTP modes (media.srtp, users[].srtp, trunks[].srtp).
const (
	// SRTPOff offers plain RTP and answers SRTP offers with plain RTP
	// where the offer allows it (RTP/AVP); an RTP/SAVP offer gets 488.
	SRTPOff = "off"
	// SRTPOpportunistic offers best-effort SRTP (RFC 8643: a=crypto in
	// RTP/AVP) and accepts RTP/SAVP, RTP/AVP with a=crypto and plain RTP.
	SRTPOpportunistic = "opportunistic"
	// SRTPRequired offers RTP/SAVP and accepts only SRTP: a plain offer
	// or answer fails the call with 488, and nothing is retried in plain.
	SRTPRequired = "required"
)

// SRTPPolicy is a user's or trunk's media security (inline in users[]
// and trunks[]): SDES-keyed SRTP (RFC 4568) on the leg that faces it.
type SRTPPolicy struct {
	// Mode is off, opportunistic or required (default media.srtp, whose
	// default is opportunistic).
	Mode string `yaml:"srtp"`
	// Fallback, with opportunistic, re-sends a call's INVITE to this peer
	// without a=crypto when it answers the best-effort offer with 488
	// (peers that refuse unknown attributes). Not allowed with required.
	Fallback bool `yaml:"srtp_fallback"`
}

// Effective returns the policy with the mode defaulted to def (media.srtp).
func (p SRTPPolicy) Effective(def string) SRTPPolicy {
	if p.Mode == "" {
		p.Mode = def
	}
	if p.Mode == "" {
		p.Mode = SRTPOpportunistic
	}
	return p
}

// srtp validates media.srtp and every user's and trunk's SRTP policy.
func (v *validator) srtp() {
	if v.c.Media.SRTP != "" {
		v.oneOf("media.srtp", v.c.Media.SRTP, SRTPOff, SRTPOpportunistic, SRTPRequired)
	}
	for i := range v.c.Users {
		v.srtpPolicy(fmt.Sprintf("users[%d]", i), v.c.Users[i].SRTP)
	}
	for i := range v.c.Trunks {
		v.srtpPolicy(fmt.Sprintf("trunks[%d]", i), v.c.Trunks[i].SRTP)
	}
}

func (v *validator) srtpPolicy(key string, p SRTPPolicy) {
	if p.Mode != "" {
		v.oneOf(key+".srtp", p.Mode, SRTPOff, SRTPOpportunistic, SRTPRequired)
	}
	if p.Fallback && p.Effective(v.c.Media.SRTP).Mode != SRTPOpportunistic {
		v.errf(key+".srtp_fallback", "only with srtp: opportunistic (required never falls back to plain RTP; off never offers SRTP)")
	}
}
