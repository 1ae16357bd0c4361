// The browser bundle of JsSIP (make deps: esbuild phone/jssip-entry.js → phone/static/jssip.min.js).
window.JsSIP = require("jssip");
