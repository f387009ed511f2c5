/*
 * common.js - small helpers shared by knutepunkt's pages (the hub's page
 * and central's dashboard). Plain browser JavaScript, no build step, no
 * framework; load it before the page's own script:
 *
 *   <script src="common.js"></script>
 *
 * Everything lives on one global object, KP:
 *
 *   KP.api(path, options)        fetch JSON from the daemon's API. Resolves
 *                                with the parsed body when the status is
 *                                2xx; otherwise rejects with an Error whose
 *                                message is the server's {"error": ...}
 *                                sentence, and with .status and .body set.
 *                                options: {method, body (an object, sent as
 *                                application/json), errorEl (an element
 *                                that shows the message on failure)}.
 *   KP.postJSON(path, body, el)  KP.api() with method POST.
 *   KP.showError(el, message)    put a message in an element (class
 *                                "error"); KP.clearError(el) empties it.
 *   KP.esc(text)                 escape text for use inside HTML.
 *   KP.html(strings, ...values)  tagged template that escapes each value:
 *                                KP.html`<td>${name}</td>`.
 *   KP.ZONE                      "Europe/Oslo": the zone people read.
 *   KP.fmtTime(t), KP.fmtDate(t), KP.fmtDateTime(t), KP.fmtWeekday(t)
 *                                format an instant (UTC seconds, a Date,
 *                                or an ISO text) in Europe/Oslo:
 *                                "17:00", "2026-11-23", "2026-11-23 17:00",
 *                                "man." (Norwegian short weekday).
 *   KP.today()                   today's date in Europe/Oslo, "YYYY-MM-DD".
 *   KP.addDays(date, n)          "YYYY-MM-DD" plus n days (calendar days,
 *                                unaffected by summer time).
 *   KP.el(id)                    document.getElementById(id).
 *
 * Times from the API come both as local text ("2026-11-23T17:00") and as
 * UTC seconds ("start_utc"); the formatters take either.
 */
(function (global) {
	"use strict";

	var ZONE = "Europe/Oslo";

	function esc(text) {
		return String(text === undefined || text === null ? "" : text)
			.replace(/&/g, "&amp;")
			.replace(/</g, "&lt;")
			.replace(/>/g, "&gt;")
			.replace(/"/g, "&quot;")
			.replace(/'/g, "&#39;");
	}

	function html(strings) {
		var out = strings[0];
		for (var i = 1; i < arguments.length; i++)
			out += esc(arguments[i]) + strings[i];
		return out;
	}

	function showError(el, message) {
		if (!el)
			return;
		el.textContent = message;
		el.classList.add("error");
		el.classList.remove("ok");
	}

	function clearError(el) {
		if (!el)
			return;
		el.textContent = "";
		el.classList.remove("error");
	}

	/* fetch() JSON; see the notes at the top. */
	function api(path, options) {
		options = options || {};
		var init = {method: options.method || "GET", headers: {}};
		if (options.body !== undefined) {
			init.headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(options.body);
		}
		return fetch(path, init).then(
			function (res) {
				return res.text().then(function (text) {
					var body = null;
					try {
						body = text ? JSON.parse(text) : null;
					} catch (e) {
						body = null;
					}
					if (res.ok)
						return body;
					var msg = body && body.error
						? body.error
						: "the server answered " + res.status + " " + res.statusText;
					var err = new Error(msg);
					err.status = res.status;
					err.body = body;
					showError(options.errorEl, msg);
					throw err;
				});
			},
			function (e) {
				var msg = "cannot reach the server (" + e.message + "): is the daemon running?";
				var err = new Error(msg);
				err.status = 0;
				showError(options.errorEl, msg);
				throw err;
			});
	}

	function postJSON(path, body, errorEl) {
		return api(path, {method: "POST", body: body, errorEl: errorEl});
	}

	/* An instant from UTC seconds, a Date or an ISO text. Local ISO text
	 * without a zone ("2026-11-23T17:00", as the API sends it) is
	 * already Europe/Oslo wall-clock time and is returned as it is. */
	function parts(t) {
		if (typeof t === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(t))
			return {date: t.slice(0, 10), time: t.slice(11, 16), d: null};
		var d = t instanceof Date ? t : new Date(typeof t === "number" ? t * 1000 : t);
		if (isNaN(d.getTime()))
			return {date: "", time: "", d: null};
		var f = new Intl.DateTimeFormat("en-GB", {
			timeZone: ZONE, year: "numeric", month: "2-digit",
			day: "2-digit", hour: "2-digit", minute: "2-digit",
			hourCycle: "h23"
		});
		var p = {};
		f.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
		return {date: p.year + "-" + p.month + "-" + p.day,
			time: p.hour + ":" + p.minute, d: d};
	}

	function fmtTime(t) { return parts(t).time; }
	function fmtDate(t) { return parts(t).date; }
	function fmtDateTime(t) {
		var p = parts(t);
		return p.date ? p.date + " " + p.time : "";
	}

	var WEEKDAYS = ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."];

	/* Monday = 0 of a "YYYY-MM-DD" date. */
	function weekdayOf(date) {
		var d = new Date(date + "T12:00:00Z");
		return (d.getUTCDay() + 6) % 7;
	}

	function fmtWeekday(t) {
		var date = parts(t).date;
		return date ? WEEKDAYS[weekdayOf(date)] : "";
	}

	function today() { return parts(new Date()).date; }

	function addDays(date, n) {
		var d = new Date(date + "T12:00:00Z");
		d.setUTCDate(d.getUTCDate() + n);
		return d.toISOString().slice(0, 10);
	}

	global.KP = {
		ZONE: ZONE,
		WEEKDAYS: WEEKDAYS,
		api: api,
		postJSON: postJSON,
		showError: showError,
		clearError: clearError,
		esc: esc,
		html: html,
		fmtTime: fmtTime,
		fmtDate: fmtDate,
		fmtDateTime: fmtDateTime,
		fmtWeekday: fmtWeekday,
		weekdayOf: weekdayOf,
		today: today,
		addDays: addDays,
		el: function (id) { return document.getElementById(id); }
	};
})(window);
