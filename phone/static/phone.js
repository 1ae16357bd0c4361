// Switchboard's browser phone: JsSIP over the WebSocket of the server that
// served this page (config.json gives the SIP domain and the WebSocket
// path). window.sbPhone is the page's API; the buttons use it, and so do
// the end-to-end tests (phone/driver.cjs).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    cfg: null, ua: null, session: null, incoming: null, held: false, remoteHeld: false, muted: false,
    status: 'logged out', registered: false, ended: [], digitsSent: '',
    audio: null, analyser: null, qtimer: null,
  };

  function setStatus(s) { state.status = s; $('status').textContent = s; }

  function enable() {
    const s = state.session;
    const up = !!(s && s.isEstablished());
    $('dial').disabled = !state.registered || !!s;
    $('answer').disabled = !state.incoming;
    $('hangup').disabled = !s;
    $('hold').disabled = !up;
    $('mute').disabled = !up;
    $('hold').textContent = state.held ? 'Resume' : 'Hold';
    $('mute').textContent = state.muted ? 'Unmute' : 'Mute';
    $('register').disabled = !!state.ua;
    $('unregister').disabled = !state.ua;
  }

  async function config() {
    if (!state.cfg) {
      const r = await fetch('config.json', { cache: 'no-store' });
      state.cfg = await r.json();
    }
    return state.cfg;
  }

  function wsURL(cfg) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return scheme + '//' + location.host + cfg.ws_path;
  }

  // login registers as user; it resolves once registered.
  async function login(user, password) {
    if (typeof JsSIP === 'undefined') throw new Error('JsSIP missing (make deps)');
    const cfg = await config();
    if (state.ua) await logout();
    const socket = new JsSIP.WebSocketInterface(wsURL(cfg));
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri: 'sip:' + user + '@' + cfg.domain,
      password: password,
      display_name: user,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: 'Switchboard phone (JsSIP ' + JsSIP.version + ')',
    });
    state.ua = ua;
    ua.on('newRTCSession', onSession);
    const done = new Promise((resolve, reject) => {
      ua.on('registered', () => { state.registered = true; setStatus('registered as ' + user); enable(); resolve(true); });
      ua.on('registrationFailed', (e) => { state.registered = false; setStatus('registration failed: ' + e.cause); enable(); reject(new Error('registration failed: ' + e.cause)); });
    });
    ua.on('unregistered', () => { state.registered = false; setStatus('logged out'); enable(); });
    ua.on('disconnected', () => { if (state.registered) setStatus('disconnected'); });
    ua.start();
    enable();
    return done;
  }

  async function logout() {
    if (!state.ua) return;
    const ua = state.ua;
    state.ua = null;
    state.registered = false;
    ua.stop();
    setStatus('logged out');
    enable();
  }

  function callOptions() {
    return {
      mediaConstraints: { audio: true, video: false },
      pcConfig: { iceServers: [] },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
    };
  }

  // The SIP Call-ID of the session: the key of its live quality.
  function callID(s) {
    return s && s._request ? s._request.call_id : '';
  }

  function onSession(e) {
    const s = e.session;
    if (state.session && e.originator === 'remote') {
      s.terminate({ status_code: 486 });
      return;
    }
    state.session = s;
    state.held = false;
    state.remoteHeld = false;
    state.muted = false;
    if (e.originator === 'remote') {
      state.incoming = s;
      setStatus('incoming call from ' + (s.remote_identity.uri.user || 'unknown'));
    } else {
      setStatus('calling ' + s.remote_identity.uri.user);
    }
    const attach = (pc) => {
      pc.addEventListener('track', (ev) => playRemote(ev.streams[0] || new MediaStream([ev.track])));
    };
    if (s.connection) attach(s.connection);
    s.on('peerconnection', (ev) => attach(ev.peerconnection));
    s.on('progress', () => setStatus('ringing'));
    s.on('confirmed', () => { state.incoming = null; setStatus('in call'); enable(); pollQuality(); });
    // held: we put the call on hold; remoteHeld: the other party did.
    s.on('hold', (ev) => {
      if (ev.originator === 'local') state.held = true; else state.remoteHeld = true;
      setStatus(state.held ? 'on hold' : 'held by the other party');
      enable();
    });
    s.on('unhold', (ev) => {
      if (ev.originator === 'local') state.held = false; else state.remoteHeld = false;
      setStatus(state.held ? 'on hold' : state.remoteHeld ? 'held by the other party' : 'in call');
      enable();
    });
    const over = (why) => (ev) => {
      state.ended.push({ why: why, cause: ev.cause, code: ev.message && ev.message.status_code });
      if (state.session === s) state.session = null;
      if (state.incoming === s) state.incoming = null;
      state.held = false;
      setStatus((why === 'failed' ? 'call failed: ' : 'call ended: ') + ev.cause);
      stopQuality();
      enable();
    };
    s.on('ended', over('ended'));
    s.on('failed', over('failed'));
    enable();
  }

  function playRemote(stream) {
    const el = $('remote');
    el.srcObject = stream;
    el.play().catch(() => {});
    // The level meter, and what the tests measure: dominant frequency and
    // level of what is heard.
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(stream);
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    if (state.audio) state.audio.close();
    state.audio = ctx;
    state.analyser = an;
  }

  // onlyCodecs keeps, in an SDP's audio m-line, the payload types of the
  // named codecs (and telephone-event, for DTMF), with their attributes.
  function onlyCodecs(sdp, names) {
    const want = names.map((n) => n.toLowerCase()).concat(['telephone-event']);
    const keep = new Set();
    for (const m of sdp.matchAll(/^a=rtpmap:(\d+) ([^/\r\n]+)/gm)) {
      if (want.includes(m[2].toLowerCase())) keep.add(m[1]);
    }
    return sdp.split('\r\n').filter((l) => {
      const a = l.match(/^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/);
      return !a || keep.has(a[1]);
    }).map((l) => {
      const m = l.match(/^(m=audio \d+ \S+) (.*)$/);
      return m ? m[1] + ' ' + m[2].split(' ').filter((pt) => keep.has(pt)).join(' ') : l;
    }).join('\r\n');
  }

  // call dials number; it resolves once the call is up (confirmed).
  // opts.codecs, when given, limits the offer to those codecs (e.g.
  // ['opus']).
  function call(number, opts) {
    const cfg = state.cfg;
    if (!state.ua || !state.registered) return Promise.reject(new Error('not registered'));
    const target = number.includes('@') ? number : 'sip:' + number + '@' + cfg.domain;
    return new Promise((resolve, reject) => {
      const s = state.ua.call(target, callOptions());
      if (opts && opts.codecs) {
        s.on('sdp', (e) => { if (e.originator === 'local') e.sdp = onlyCodecs(e.sdp, opts.codecs); });
      }
      s.on('confirmed', () => resolve(callID(s)));
      s.on('failed', (e) => reject(new Error('call failed: ' + e.cause + (e.message && e.message.status_code ? ' ' + e.message.status_code : ''))));
    });
  }

  // answer takes the ringing call (waiting up to ms for one).
  async function answer(ms) {
    const until = Date.now() + (ms || 0);
    while (!state.incoming && Date.now() < until) await sleep(50);
    const s = state.incoming;
    if (!s) throw new Error('no incoming call');
    const up = new Promise((resolve, reject) => {
      s.on('confirmed', () => resolve(callID(s)));
      s.on('failed', (e) => reject(new Error('answer failed: ' + e.cause)));
    });
    s.answer(callOptions());
    return up;
  }

  function hangup() { if (state.session) state.session.terminate(); }

  function waitFor(pred, ms) {
    const until = Date.now() + ms;
    return new Promise((resolve, reject) => {
      const tick = () => {
        if (pred()) return resolve(true);
        if (Date.now() > until) return reject(new Error('timeout'));
        setTimeout(tick, 50);
      };
      tick();
    });
  }

  // hold and unhold wait for the previous offer/answer to finish (JsSIP
  // refuses a re-INVITE while one is pending).
  async function hold() {
    const s = state.session;
    await waitFor(() => s.isReadyToReOffer(), 5000);
    s.hold();
    await waitFor(() => state.held, 5000);
  }

  async function unhold() {
    const s = state.session;
    await waitFor(() => s.isReadyToReOffer(), 5000);
    s.unhold();
    await waitFor(() => !state.held, 5000);
  }

  function mute(on) {
    if (!state.session) return;
    if (on) state.session.mute({ audio: true }); else state.session.unmute({ audio: true });
    state.muted = !!on;
    enable();
  }

  // dtmf sends digits in band as RFC 4733 telephone-events (RTCDTMFSender).
  function dtmf(digits) {
    if (!state.session) return;
    state.session.sendDTMF(digits, { transportType: 'RFC2833', duration: 160, interToneGap: 100 });
    state.digitsSent += digits;
  }

  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  // measure listens for ms and returns the strongest frequency (Hz) and
  // the level (dBFS, RMS) of what was heard.
  async function measure(ms) {
    const an = state.analyser;
    if (!an) return { freq: 0, level: -Infinity, frames: 0 };
    const bins = new Float32Array(an.frequencyBinCount);
    const sum = new Float64Array(an.frequencyBinCount);
    const time = new Float32Array(an.fftSize);
    let energy = 0, n = 0, frames = 0;
    const until = Date.now() + (ms || 1000);
    while (Date.now() < until) {
      an.getFloatFrequencyData(bins);
      for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
      an.getFloatTimeDomainData(time);
      for (let i = 0; i < time.length; i++) energy += time[i] * time[i];
      n += time.length;
      frames++;
      await sleep(100);
    }
    let best = 1;
    for (let i = 2; i < sum.length; i++) if (sum[i] > sum[best]) best = i;
    const freq = best * an.context.sampleRate / an.fftSize;
    const level = 10 * Math.log10(energy / Math.max(n, 1) + 1e-12);
    return { freq: Math.round(freq), level: Math.round(level * 10) / 10, frames: frames };
  }

  function info() {
    const s = state.session;
    return {
      status: state.status, registered: state.registered,
      inCall: !!(s && s.isEstablished()), ringing: !!state.incoming,
      held: state.held, remoteHeld: state.remoteHeld, muted: state.muted, callID: callID(s), ended: state.ended,
    };
  }

  async function pollQuality() {
    stopQuality();
    const tick = async () => {
      const id = callID(state.session);
      if (!id) return;
      try {
        const r = await fetch('quality?call_id=' + encodeURIComponent(id), { cache: 'no-store' });
        if (r.ok) showQuality(await r.json());
      } catch (e) { /* next tick */ }
    };
    state.qtimer = setInterval(tick, 2000);
    tick();
  }

  function stopQuality() {
    if (state.qtimer) clearInterval(state.qtimer);
    state.qtimer = null;
  }

  function showQuality(q) {
    const rows = $('qrows');
    rows.textContent = '';
    const legs = (q.quality && q.quality.legs) || [];
    if (!legs.length) {
      const tr = rows.insertRow();
      const td = tr.insertCell();
      td.colSpan = 5;
      td.textContent = q.state + ': no media yet';
      return;
    }
    for (const l of legs) {
      const rx = l.received || {};
      const tr = rows.insertRow();
      for (const v of [l.leg, l.codec, (rx.mos || 0).toFixed(2), ((rx.loss_rate || 0) * 100).toFixed(1), (rx.jitter_mean_ms || 0).toFixed(1)]) {
        tr.insertCell().textContent = v;
      }
    }
  }

  function keypad() {
    const pad = $('keypad');
    for (const d of '123456789*0#') {
      const b = document.createElement('button');
      b.textContent = d;
      b.addEventListener('click', () => dtmf(d));
      pad.appendChild(b);
    }
  }

  function wire() {
    keypad();
    $('register').addEventListener('click', () => login($('user').value, $('password').value).catch((e) => setStatus(e.message)));
    $('unregister').addEventListener('click', () => logout());
    $('dial').addEventListener('click', () => call($('number').value).catch((e) => setStatus(e.message)));
    $('answer').addEventListener('click', () => answer(0).catch((e) => setStatus(e.message)));
    $('hangup').addEventListener('click', hangup);
    $('hold').addEventListener('click', () => (state.held ? unhold() : hold()).catch((e) => setStatus(e.message)));
    $('mute').addEventListener('click', () => mute(!state.muted));
    setInterval(async () => {
      if (!state.analyser) return;
      const m = await measure(200);
      $('level').textContent = m.level > -70 ? m.freq + ' Hz at ' + m.level + ' dBFS' : 'silence';
    }, 1000);
    if (typeof JsSIP === 'undefined') $('nojssip').classList.remove('hidden');
    enable();
    config().catch(() => {});
  }

  window.sbPhone = { login, logout, call, answer, hangup, hold, unhold, mute, dtmf, measure, info, state };
  wire();
})();
