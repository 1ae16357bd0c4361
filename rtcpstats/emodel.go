package rtcpstats

// ITU-T G.107 E-model (transmission rating model), hand-written: there is
// no maintained Go implementation, and the model is a handful of closed
// formulas. Sources: ITU-T G.107 (06/2015) §3 and Annex B, ITU-T G.113
// Appendix I (equipment impairment factors), ITU-T G.108 (planning use).
//
// The rating factor R is
//
//	R = Ro − Is − Id − Ie,eff + A                                  (G.107 §3.1)
//
// Basic signal-to-noise ratio Ro (G.107 §3.2):
//
//	Ro  = 15 − 1.5·(SLR + No)
//	No  = 10·lg(10^(Nc/10) + 10^(Nos/10) + 10^(Nor/10) + 10^(Nfo/10))
//	Nos = Ps − SLR − Ds − 100 + 0.004·(Ps − OLR − Ds − 14)²
//	Nor = RLR − 121 + Pre + 0.008·(Pre − 35)²
//	Pre = Pr + 10·lg(1 + 10^((10 − LSTR)/10))
//	Nfo = Nfor + RLR,  OLR = SLR + RLR
//
// Simultaneous impairment Is = Iolr + Ist + Iq (G.107 §3.3):
//
//	Iolr  = 20·[(1 + (Xolr/8)^8)^(1/8) − Xolr/8],  Xolr = OLR + 0.2·(64 + No − RLR)
//	Ist   = 12·[1 + ((STMRo − 13)/6)^8]^(1/8) − 28·[1 + ((STMRo + 1)/19.4)^35]^(1/35)
//	        − 13·[1 + ((STMRo − 3)/33)^13]^(1/13) + 29
//	STMRo = −10·lg(10^(−STMR/10) + e^(−T/4)·10^(−TELR/10))
//	Iq    = 15·lg(1 + 10^Y + 10^Z),  Y = (Ro − 100)/15 + 46/8.4 − G/9,  Z = 46/30 − G/40
//	G     = 1.07 + 0.258·Q + 0.0602·Q²,  Q = 37 − 15·lg(qdu)
//
// Delay impairment Id = Idte + Idle + Idd (G.107 §3.4):
//
//	Idte = [(Roe − Re)/2 + √((Roe − Re)²/4 + 100) − 1]·(1 − e^(−T))
//	Roe  = −1.5·(No − RLR),  Re = 80 + 2.5·(TERV − 14)
//	TERV = TELR − 40·lg((1 + T/10)/(1 + T/150)) + 6·e^(−0.3·T²)   (+ Ist/2 if STMR < 9 dB)
//	       (for STMR > 20 dB, Idte becomes √(Idte² + Ist²))
//	Idle = (Ro − Rle)/2 + √((Ro − Rle)²/4 + 169),  Rle = 10.5·(WEPL + 7)·(Tr + 1)^(−1/4)
//	Idd  = 0 for Ta ≤ 100 ms, else
//	Idd  = 25·{(1 + X^6)^(1/6) − 3·(1 + (X/3)^6)^(1/6) + 2},  X = lg(Ta/100)/lg 2
//	       (the 06/2015 form with its defaults mT = 100 ms, sT = 1)
//
// Delays are in milliseconds. For a VoIP leg with echo controlled at the
// far end we follow the usual planning convention (G.108): the talker-echo
// path delay T and the absolute delay Ta are both the one-way mouth-to-ear
// delay, and the listener-echo round trip Tr is twice it.
//
// Effective equipment impairment with packet loss (G.107 §3.5):
//
//	Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl)
//
// with Ppl the packet-loss percentage, BurstR the burst ratio (1 for
// random loss) and Ie/Bpl per codec (see Codecs below).
//
// The G.107 Table 2 defaults used: SLR = 8 dB, RLR = 2 dB, STMR = 15 dB,
// LSTR = 18 dB, Ds = Dr = 3, TELR = 65 dB, WEPL = 110 dB, qdu = 1,
// Nc = −70 dBm0p, Nfor = −64 dBmp, Ps = Pr = 35 dB(A), A = 0. With them
// Ro ≈ 94.77, Is ≈ 1.41 and, at zero delay, Id = Idle ≈ 0.15, so an
// unimpaired G.711 connection rates R ≈ 93.2 (MOS ≈ 4.41).
//
// MOS from R (G.107 Annex B):
//
//	MOS = 1                                           for R < 0
//	MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶   for 0 ≤ R ≤ 100
//	MOS = 4.5                                         for R > 100
//
// clamped to [1, 4.5] (the cubic dips a hair below 1 for R just above 0).

import (
	"math"
	"strings"
	"time"
)

// EModel holds the G.107 transmission parameters other than delay, loss
// and codec. DefaultEModel returns the G.107 Table 2 default values.
type EModel struct {
	SLR  float64 // send loudness rating, dB
	RLR  float64 // receive loudness rating, dB
	STMR float64 // sidetone masking rating, dB
	LSTR float64 // listener sidetone rating, dB
	Ds   float64 // D-value of telephone, send side
	Dr   float64 // D-value of telephone, receive side
	TELR float64 // talker echo loudness rating, dB
	WEPL float64 // weighted echo path loss, dB
	Qdu  float64 // number of quantizing distortion units
	Nc   float64 // circuit noise referred to the 0 dBr point, dBm0p
	Nfor float64 // noise floor at the receive side, dBmp
	Ps   float64 // room noise at the send side, dB(A)
	Pr   float64 // room noise at the receive side, dB(A)
	A    float64 // advantage factor
}

// DefaultEModel returns the default parameter values of G.107 Table 2.
func DefaultEModel() EModel {
	return EModel{
		SLR: 8, RLR: 2, STMR: 15, LSTR: 18, Ds: 3, Dr: 3,
		TELR: 65, WEPL: 110, Qdu: 1, Nc: -70, Nfor: -64, Ps: 35, Pr: 35, A: 0,
	}
}

// Impairment is a codec's equipment impairment factor Ie and packet-loss
// robustness factor Bpl (G.107 §3.5, values from G.113 Appendix I).
type Impairment struct {
	// Ie is the equipment impairment factor without loss.
	Ie float64
	// Bpl is the packet-loss robustness factor.
	Bpl float64
}

// Codec impairment values. Narrowband values come from ITU-T G.113
// Appendix I (Tables I.1 and I.3). G.107 is a narrowband (300–3400 Hz)
// model whose R scale tops out at 93.2; wideband codecs are rated here on
// that narrowband scale ("narrowband-equivalent"), which cannot credit
// their extra bandwidth but still measures their loss and delay
// impairments against G.711. The wideband E-model (G.107.1, R up to 129)
// and G.113's wideband Ie,wb values would need a different scale that
// narrowband legs could not be compared on.
var (
	// ImpairmentG711PLC is G.711 with the G.711 Appendix I concealment:
	// Ie = 0, Bpl = 25.1 (G.113 Appendix I, random loss).
	ImpairmentG711PLC = Impairment{Ie: 0, Bpl: 25.1}
	// ImpairmentG711NoPLC is G.711 without concealment: Ie = 0, Bpl = 4.3
	// (G.113 Appendix I).
	ImpairmentG711NoPLC = Impairment{Ie: 0, Bpl: 4.3}
	// ImpairmentG722 is G.722 at 64 kbit/s with G.722 Appendix III/IV
	// concealment, narrowband-equivalent: Ie = 0 (as good as G.711 within
	// the narrowband scale; G.113's Ie,wb = 13 is on the wideband scale,
	// where G.711 itself rates Ie,wb = 36) and Bpl = 25.1, the G.711
	// Appendix I value, since G.722's concealment is of the same
	// waveform-extrapolation kind. This Bpl is our choice, not a G.113
	// table value.
	ImpairmentG722 = Impairment{Ie: 0, Bpl: 25.1}
	// ImpairmentOpus is Opus in its VoIP mode, narrowband-equivalent. No
	// ITU-T table lists Opus; we use Ie = 0 (at the bit rates used for
	// speech, ≥ 16 kbit/s wideband, listening tests rate Opus at or above
	// G.711) and Bpl = 25.1, the G.711-with-PLC value, a conservative
	// choice that ignores Opus in-band FEC.
	ImpairmentOpus = Impairment{Ie: 0, Bpl: 25.1}
	// ImpairmentG729 is G.729A with VAD: Ie = 11, Bpl = 19.0 (G.113
	// Appendix I).
	ImpairmentG729 = Impairment{Ie: 11, Bpl: 19.0}
)

// CodecImpairment returns the impairment values for an SDP encoding name
// (case-insensitive: PCMU, PCMA, G722, opus, G729). plc tells whether the
// receiver conceals lost G.711 frames; it is ignored for codecs whose
// concealment is part of the codec. Unknown codecs get the G.711-with-PLC
// values and ok = false.
func CodecImpairment(name string, plc bool) (imp Impairment, ok bool) {
	switch strings.ToUpper(name) {
	case "PCMU", "PCMA", "G711":
		if plc {
			return ImpairmentG711PLC, true
		}
		return ImpairmentG711NoPLC, true
	case "G722":
		return ImpairmentG722, true
	case "OPUS":
		return ImpairmentOpus, true
	case "G729":
		return ImpairmentG729, true
	}
	return ImpairmentG711PLC, false
}

// Conditions are the per-call inputs of the E-model.
type Conditions struct {
	// Delay is the one-way mouth-to-ear delay (T = Ta = Delay, Tr = 2·Delay).
	Delay time.Duration
	// Ppl is the packet-loss probability in percent (0..100), counting
	// packets discarded by the jitter buffer as lost.
	Ppl float64
	// BurstR is the burst ratio (1 for random loss, > 1 for bursty loss);
	// 0 is taken as 1.
	BurstR float64
	// Codec is the codec's Ie and Bpl.
	Codec Impairment
}

// Rating is the outcome of the E-model with its terms.
type Rating struct {
	R     float64 // transmission rating factor
	MOS   float64 // conversational MOS from R (G.107 Annex B)
	Ro    float64 // basic signal-to-noise ratio
	Is    float64 // simultaneous impairment
	Id    float64 // delay impairment, Idte + Idle + Idd
	Idte  float64 // talker echo
	Idle  float64 // listener echo
	Idd   float64 // absolute delay
	IeEff float64 // effective equipment impairment
}

// Rate evaluates the E-model for the given conditions.
func (m EModel) Rate(c Conditions) Rating {
	T := float64(c.Delay) / float64(time.Millisecond)
	if T < 0 {
		T = 0
	}
	Ta, Tr := T, 2*T

	// G.107 §3.2: basic signal-to-noise ratio.
	olr := m.SLR + m.RLR
	nfo := m.Nfor + m.RLR
	pre := m.Pr + 10*math.Log10(1+math.Pow(10, (10-m.LSTR)/10))
	nor := m.RLR - 121 + pre + 0.008*sq(pre-35)
	nos := m.Ps - m.SLR - m.Ds - 100 + 0.004*sq(m.Ps-olr-m.Ds-14)
	no := 10 * math.Log10(math.Pow(10, m.Nc/10)+math.Pow(10, nos/10)+math.Pow(10, nor/10)+math.Pow(10, nfo/10))
	ro := 15 - 1.5*(m.SLR+no)

	// G.107 §3.3: simultaneous impairment.
	xolr := olr + 0.2*(64+no-m.RLR)
	iolr := 20 * (math.Pow(1+math.Pow(xolr/8, 8), 1.0/8) - xolr/8)
	stmro := -10 * math.Log10(math.Pow(10, -m.STMR/10)+math.Exp(-T/4)*math.Pow(10, -m.TELR/10))
	ist := 12*math.Pow(1+math.Pow((stmro-13)/6, 8), 1.0/8) -
		28*math.Pow(1+math.Pow((stmro+1)/19.4, 35), 1.0/35) -
		13*math.Pow(1+math.Pow((stmro-3)/33, 13), 1.0/13) + 29
	q := 37 - 15*math.Log10(m.Qdu)
	g := 1.07 + 0.258*q + 0.0602*q*q
	y := (ro-100)/15 + 46/8.4 - g/9
	z := 46.0/30 - g/40
	iq := 15 * math.Log10(1+math.Pow(10, y)+math.Pow(10, z))
	is := iolr + ist + iq

	// G.107 §3.4: delay impairment.
	terv := m.TELR - 40*math.Log10((1+T/10)/(1+T/150)) + 6*math.Exp(-0.3*T*T)
	if m.STMR < 9 {
		terv += ist / 2
	}
	re := 80 + 2.5*(terv-14)
	roe := -1.5 * (no - m.RLR)
	idte := ((roe-re)/2 + math.Sqrt(sq(roe-re)/4+100) - 1) * (1 - math.Exp(-T))
	if m.STMR > 20 {
		idte = math.Sqrt(idte*idte + ist*ist)
	}
	rle := 10.5 * (m.WEPL + 7) * math.Pow(Tr+1, -0.25)
	idle := (ro-rle)/2 + math.Sqrt(sq(ro-rle)/4+169)
	var idd float64
	if Ta > 100 {
		x := math.Log10(Ta/100) / math.Log10(2)
		idd = 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
	}
	id := idte + idle + idd

	// G.107 §3.5: effective equipment impairment.
	ppl := min(max(c.Ppl, 0), 100)
	burstR := c.BurstR
	if burstR <= 0 {
		burstR = 1
	}
	ie := c.Codec.Ie
	var ieEff float64
	if denom := ppl/burstR + c.Codec.Bpl; denom > 0 {
		ieEff = ie + (95-ie)*ppl/denom
	} else {
		ieEff = ie
	}

	r := ro - is - id - ieEff + m.A
	return Rating{R: r, MOS: MOS(r), Ro: ro, Is: is, Id: id, Idte: idte, Idle: idle, Idd: idd, IeEff: ieEff}
}

// MOS converts a rating factor R to an estimated mean opinion score
// (G.107 Annex B), clamped to [1, 4.5].
func MOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	mos := 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
	return min(max(mos, 1), 4.5)
}

func sq(x float64) float64 { return x * x }
