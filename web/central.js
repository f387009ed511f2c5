/*
 * central.js - central's dashboard (central.html) and a district's page
 * (district.html?hub=HUB), drawn from the JSON API of docs/web-central.md:
 *
 *   GET /api/overview?week=YYYY-MM-DD       every district side by side
 *   GET /api/districts/HUB?week=YYYY-MM-DD  one district in detail
 *   GET /api/requests?hub=HUB, POST /api/requests   central requests
 *
 * Charts are plain inline SVG drawn here. Both pages refresh by themselves
 * every 10 s (?refresh=SECONDS overrides); a refresh rewrites the parts
 * in place and keeps the scroll position. ?week=YYYY-MM-DD picks a week.
 * Needs common.js (KP.api, KP.esc, KP.fmtDateTime, ...).
 */
(function () {
	"use strict";

	var esc = KP.esc;
	var params = new URLSearchParams(window.location.search);
	var refreshSecs = parseFloat(params.get("refresh"));
	if (!(refreshSecs > 0))
		refreshSecs = 10;
	var week = params.get("week") || "";
	var hub = params.get("hub") || "";
	var isDistrict = !!document.getElementById("request-form");
	var timer = null;

	/* Colours for chart series: readable on white, told apart. */
	var COLOURS = ["#00457c", "#0a7c5a", "#c2571a", "#7b3fa0", "#b3261e",
		"#2d8fbf", "#8a7300", "#5b6670", "#d0679d", "#3f6e2a"];

	function el(id) { return document.getElementById(id); }

	function setHtml(id, html) {
		var e = el(id);
		if (e && e.innerHTML !== html)
			e.innerHTML = html;
	}

	function num(v) {
		if (typeof v !== "number")
			return "0";
		return Number.isInteger(v) ? String(v) : v.toFixed(1);
	}

	function pct(part, whole) {
		return whole > 0 ? Math.round(100 * part / whole) + " %" : "–";
	}

	function sortedKeys(obj) {
		return Object.keys(obj || {}).sort(function (a, b) {
			return (obj[b] - obj[a]) || a.localeCompare(b, "nb");
		});
	}

	/* ---- SVG charts ---- */

	function svgText(x, y, text, attrs) {
		return '<text x="' + x + '" y="' + y + '"' + (attrs || "") + ">" + esc(text) + "</text>";
	}

	/* Horizontal bars: rows [{label, value}], one colour. */
	function barChart(rows, title) {
		if (!rows.length)
			return '<p class="muted small">Nothing this week.</p>';
		var max = Math.max.apply(null, rows.map(function (r) { return r.value; })) || 1;
		var lw = 130, bw = 260, rh = 22, h = rows.length * rh + 6, w = lw + bw + 50;
		var out = '<svg class="chart-svg" viewBox="0 0 ' + w + " " + h + '" role="img" aria-label="' + esc(title) + '">';
		rows.forEach(function (r, i) {
			var y = i * rh + 3, len = Math.max(1, Math.round(bw * r.value / max));
			out += svgText(lw - 6, y + 15, r.label, ' text-anchor="end" class="chart-label"');
			out += '<rect x="' + lw + '" y="' + (y + 3) + '" width="' + len + '" height="' + (rh - 8) +
				'" fill="' + COLOURS[0] + '"><title>' + esc(r.label + ": " + num(r.value)) + "</title></rect>";
			out += svgText(lw + len + 5, y + 15, num(r.value), ' class="chart-value"');
		});
		return out + "</svg>";
	}

	/* One stacked bar per district: rows [{label, parts: {key: n}}]. */
	function stackedChart(rows, title) {
		var keys = {};
		rows.forEach(function (r) {
			Object.keys(r.parts || {}).forEach(function (k) { keys[k] = (keys[k] || 0) + r.parts[k]; });
		});
		var order = sortedKeys(keys);
		if (!order.length)
			return '<p class="muted small">Nothing this week.</p>';
		var max = Math.max.apply(null, rows.map(function (r) {
			return order.reduce(function (s, k) { return s + ((r.parts || {})[k] || 0); }, 0);
		})) || 1;
		var lw = 130, bw = 260, rh = 24, w = lw + bw + 40;
		var legendRows = Math.ceil(order.length / 3), h = rows.length * rh + legendRows * 18 + 12;
		var out = '<svg class="chart-svg" viewBox="0 0 ' + w + " " + h + '" role="img" aria-label="' + esc(title) + '">';
		rows.forEach(function (r, i) {
			var y = i * rh + 3, x = lw, total = 0;
			out += svgText(lw - 6, y + 16, r.label, ' text-anchor="end" class="chart-label"');
			order.forEach(function (k, c) {
				var v = (r.parts || {})[k] || 0;
				if (!v)
					return;
				var len = Math.max(1, Math.round(bw * v / max));
				out += '<rect x="' + x + '" y="' + (y + 3) + '" width="' + len + '" height="' + (rh - 8) +
					'" fill="' + COLOURS[c % COLOURS.length] + '"><title>' +
					esc(r.label + ", " + k + ": " + v) + "</title></rect>";
				x += len;
				total += v;
			});
			out += svgText(x + 5, y + 16, num(total), ' class="chart-value"');
		});
		order.forEach(function (k, c) {
			var lx = (c % 3) * (w / 3) + 4, ly = rows.length * rh + 10 + Math.floor(c / 3) * 18;
			out += '<rect x="' + lx + '" y="' + ly + '" width="11" height="11" fill="' + COLOURS[c % COLOURS.length] + '"></rect>';
			out += svgText(lx + 15, ly + 10, k + " (" + keys[k] + ")", ' class="chart-legend"');
		});
		return out + "</svg>";
	}

	/* Booked against open hours: rows [{label, booked, open}]. */
	function useChart(rows, title) {
		if (!rows.length)
			return '<p class="muted small">No rooms.</p>';
		var max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.open, r.booked); })) || 1;
		var lw = 130, bw = 240, rh = 34, h = rows.length * rh + 26, w = lw + bw + 90;
		var out = '<svg class="chart-svg" viewBox="0 0 ' + w + " " + h + '" role="img" aria-label="' + esc(title) + '">';
		rows.forEach(function (r, i) {
			var y = i * rh + 3;
			var lo = Math.max(1, Math.round(bw * r.open / max));
			var lb = r.booked > 0 ? Math.max(1, Math.round(bw * r.booked / max)) : 0;
			out += svgText(lw - 6, y + 19, r.label, ' text-anchor="end" class="chart-label"');
			out += '<rect x="' + lw + '" y="' + (y + 3) + '" width="' + lo + '" height="12" fill="#c9d6e2"><title>' +
				esc(r.label + ": open " + num(r.open) + " h") + "</title></rect>";
			out += '<rect x="' + lw + '" y="' + (y + 16) + '" width="' + lb + '" height="12" fill="' + COLOURS[1] + '"><title>' +
				esc(r.label + ": booked " + num(r.booked) + " h") + "</title></rect>";
			out += svgText(lw + Math.max(lo, lb) + 5, y + 19,
				num(r.booked) + " / " + num(r.open) + " h (" + pct(r.booked, r.open) + ")", ' class="chart-value"');
		});
		var ly = rows.length * rh + 8;
		out += '<rect x="4" y="' + ly + '" width="11" height="11" fill="#c9d6e2"></rect>' + svgText(19, ly + 10, "open hours", ' class="chart-legend"');
		out += '<rect x="120" y="' + ly + '" width="11" height="11" fill="' + COLOURS[1] + '"></rect>' + svgText(135, ly + 10, "booked hours", ' class="chart-legend"');
		return out + "</svg>";
	}

	function countRows(obj) {
		return sortedKeys(obj).map(function (k) { return {label: k, value: obj[k]}; });
	}

	/* ---- shared pieces ---- */

	function stateBadge(d) {
		var s = d.online ? "online" : "offline";
		return '<span class="state badge ' + (d.online ? "ok" : "bad") + '">' + s + "</span>";
	}

	function sinceText(d) {
		return d.since ? KP.fmtDateTime(d.since) : "never";
	}

	function lackingTable(rows, withHub) {
		if (!rows.length)
			return '<p class="muted small">Every activity this week has the volunteers it needs.</p>';
		return '<table class="list"><thead><tr>' + (withHub ? "<th>District</th>" : "") +
			"<th>Activity</th><th>Needed</th><th>Assigned</th></tr></thead><tbody>" +
			rows.map(function (r) {
				return "<tr>" + (withHub ? "<td>" + esc(r.district) + "</td>" : "") +
					"<td>" + esc(r.title) + ' <span class="muted small">' + esc(r.id) + "</span></td><td>" +
					esc(r.needed) + '</td><td class="short">' + esc(r.assigned) + "</td></tr>";
			}).join("") + "</tbody></table>";
	}

	function policeTable(rows, unknown, withHub) {
		var out = "";
		if (!rows.length)
			out += '<p class="muted small">No assignment this week lacks a police certificate that central can see.</p>';
		else
			out += '<table class="list"><thead><tr>' + (withHub ? "<th>District</th>" : "") +
				"<th>Activity</th><th>Volunteer</th></tr></thead><tbody>" +
				rows.map(function (r) {
					return "<tr>" + (withHub ? "<td>" + esc(r.district) + "</td>" : "") +
						"<td>" + esc(r.title) + ' <span class="muted small">' + esc(r.activity) + "</span></td><td>" +
						esc(r.volunteer) + "</td></tr>";
				}).join("") + "</tbody></table>";
		if (unknown > 0)
			out += '<p class="hint">' + esc(unknown) + " more assigned volunteer" + (unknown === 1 ? " has" : "s have") +
				" not consented to share personal data, so central cannot see whether they showed a certificate: ask the district.</p>";
		return out;
	}

	function weekLabel(data) {
		return "week " + data.week_number + ", " + data.week_start + " – " + data.week_end;
	}

	function setWeekNav(data) {
		function go(date) {
			week = date;
			params.set("week", date);
			if (!date)
				params.delete("week");
			var q = params.toString();
			window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
			refresh();
		}
		el("week-prev").onclick = function () { go(KP.addDays(data.week_start, -7)); };
		el("week-next").onclick = function () { go(KP.addDays(data.week_start, 7)); };
		el("week-this").onclick = function () { go(""); };
	}

	function apiPath(base) {
		return base + (week ? "?week=" + encodeURIComponent(week) : "");
	}

	/* ---- the dashboard ---- */

	function districtHtml(d) {
		var aw = d.activities_week || {}, ru = d.room_use || {}, vo = d.volunteers || {};
		return KP.html`<header class="district-head">
			<h3 class="district-name"><a href="district.html?hub=${d.hub}">${d.name}</a></h3>` +
			stateBadge(d) + "</header>" +
			KP.html`<p class="small muted">${d.online ? "online since" : "offline since"} <span class="since">${sinceText(d)}</span></p>
			<dl class="district-figures">
			<dt>Backlog</dt><dd><span class="backlog">${d.backlog}</span> changes</dd>
			<dt>Dead letters</dt><dd class="dead-letters">${d.dead_letters}</dd>
			<dt>Bookings this week</dt><dd class="bookings-week">${d.bookings_week}</dd>
			<dt>Activities this week</dt><dd class="activities-week">${aw.total || 0}</dd>
			<dt>Room use</dt><dd class="room-use">${num(ru.booked_hours)} of ${num(ru.open_hours)} h (${pct(ru.booked_hours, ru.open_hours)})</dd>
			<dt>Volunteers</dt><dd class="volunteers">${vo.count || 0}</dd>
			<dt>Lacking volunteers</dt><dd class="lacking">${(d.lacking_volunteers || []).length}</dd>
			<dt>Missing police cert.</dt><dd class="missing-police">${(d.missing_police || []).length}</dd>
			</dl>
			<p class="small"><a href="district.html?hub=${d.hub}">Open ${d.name} →</a></p>`;
	}

	function renderDistricts(list) {
		var box = el("districts");
		var seen = {};
		list.forEach(function (d, i) {
			var sec = box.querySelector('section.district[data-hub="' + CSS.escape(d.hub) + '"]');
			if (!sec) {
				sec = document.createElement("section");
				sec.className = "district card";
				sec.setAttribute("data-hub", d.hub);
			}
			if (box.children[i] !== sec)
				box.insertBefore(sec, box.children[i] || null);
			sec.classList.toggle("is-offline", !d.online);
			var html = districtHtml(d);
			if (sec.innerHTML !== html)
				sec.innerHTML = html;
			seen[d.hub] = true;
		});
		Array.prototype.slice.call(box.querySelectorAll("section.district")).forEach(function (s) {
			if (!seen[s.getAttribute("data-hub")])
				box.removeChild(s);
		});
		if (!list.length)
			box.innerHTML = '<p class="muted">No district has connected to central yet: start knute-hub with --central at the districts.</p>';
	}

	function renderTotals(data) {
		var t = data.totals || {};
		var aw = t.activities_week || {}, ru = t.room_use || {}, vo = t.volunteers || {};
		setHtml("totals", KP.html`<dl class="totals">
			<div><dt>Districts online</dt><dd>${t.online} of ${t.districts}</dd></div>
			<div><dt>Bookings this week</dt><dd>${t.bookings_week}</dd></div>
			<div><dt>Activities this week</dt><dd>${aw.total}</dd></div>
			<div><dt>Room use</dt><dd>${num(ru.booked_hours)} of ${num(ru.open_hours)} h</dd></div>
			<div><dt>Volunteers</dt><dd>${vo.count}</dd></div>
			<div><dt>Lacking volunteers</dt><dd>${t.lacking_volunteers}</dd></div>
			<div><dt>Missing police cert.</dt><dd>${t.missing_police}</dd></div>
			<div><dt>Backlog</dt><dd>${t.backlog}</dd></div>
			</dl>`);
	}

	function renderOverview(data) {
		document.title = "Knutepunkt – " + data.municipality;
		el("municipality").textContent = data.municipality;
		el("week-label").textContent = weekLabel(data);
		setWeekNav(data);
		renderTotals(data);
		var list = data.districts || [];
		renderDistricts(list);
		setHtml("chart-category", stackedChart(list.map(function (d) {
			return {label: d.name, parts: (d.activities_week || {}).by_category};
		}), "Activities by category"));
		setHtml("chart-target", stackedChart(list.map(function (d) {
			return {label: d.name, parts: (d.activities_week || {}).by_target};
		}), "Activities by target group"));
		setHtml("chart-rooms", useChart(list.map(function (d) {
			return {label: d.name, booked: d.room_use.booked_hours, open: d.room_use.open_hours};
		}), "Room use per district"));
		setHtml("chart-skill", stackedChart(list.map(function (d) {
			return {label: d.name, parts: d.volunteers.by_skill};
		}), "Volunteers by skill"));
		setHtml("chart-language", stackedChart(list.map(function (d) {
			return {label: d.name, parts: d.volunteers.by_language};
		}), "Volunteers by language"));
		var lacking = [], police = [], unknown = 0;
		list.forEach(function (d) {
			(d.lacking_volunteers || []).forEach(function (r) { lacking.push(Object.assign({district: d.name}, r)); });
			(d.missing_police || []).forEach(function (r) { police.push(Object.assign({district: d.name}, r)); });
			unknown += d.police_unknown || 0;
		});
		setHtml("lacking", lackingTable(lacking, true));
		setHtml("police", policeTable(police, unknown, true));
	}

	/* ---- a district ---- */

	function renderDistrict(d) {
		var aw = d.activities_week || {}, ru = d.room_use || {}, vo = d.volunteers || {};
		document.title = "Knutepunkt – " + d.name;
		el("district-title").textContent = d.name;
		el("municipality").textContent = d.municipality;
		el("week-label").textContent = weekLabel(d);
		setWeekNav(d);
		setHtml("district", '<section class="district" data-hub="' + esc(d.hub) + '">' +
			KP.html`<p><span class="district-name">${d.name}</span> ` + stateBadge(d) +
			KP.html` <span class="small muted">${d.online ? "online since" : "offline since"} <span class="since">${sinceText(d)}</span>,
			last seen ${d.last_seen ? KP.fmtDateTime(d.last_seen) : "never"}</span></p>
			<dl class="totals">
			<div><dt>Applied seq</dt><dd>${d.applied_seq}</dd></div>
			<div><dt>Backlog</dt><dd class="backlog">${d.backlog}</dd></div>
			<div><dt>Dead letters</dt><dd>${d.dead_letters}</dd></div>
			<div><dt>Bookings this week</dt><dd class="bookings-week">${d.bookings_week}</dd></div>
			<div><dt>Activities this week</dt><dd>${aw.total}</dd></div>
			<div><dt>Room use</dt><dd>${num(ru.booked_hours)} of ${num(ru.open_hours)} h (${pct(ru.booked_hours, ru.open_hours)})</dd></div>
			<div><dt>Volunteers</dt><dd>${vo.count}</dd></div>
			</dl>` +
			(vo.named && vo.named.length ? KP.html`<p class="small">Volunteers who consented to share their name: ${vo.named.join(", ")}</p>` : "") +
			"</section>");
		setHtml("chart-category", barChart(countRows(aw.by_category), "Activities by category"));
		setHtml("chart-target", barChart(countRows(aw.by_target), "Activities by target group"));
		setHtml("chart-rooms", useChart((d.rooms || []).map(function (r) {
			return {label: r.name, booked: r.booked_hours, open: r.open_hours};
		}), "Room use per room"));
		setHtml("chart-skill", barChart(countRows(vo.by_skill), "Volunteers by skill"));
		setHtml("chart-language", barChart(countRows(vo.by_language), "Volunteers by language"));

		var rooms = d.rooms || [];
		setHtml("rooms", rooms.length ? '<table class="list"><thead><tr><th>Room</th><th>Capacity</th><th>Opening hours</th><th>Open</th><th>Booked</th><th>Use</th></tr></thead><tbody>' +
			rooms.map(function (r) {
				return KP.html`<tr><td>${r.name} <span class="muted small">${r.id}</span></td><td>${r.capacity}</td>
					<td>${r.open || "always open"}</td><td>${num(r.open_hours)} h</td><td>${num(r.booked_hours)} h</td>
					<td>${pct(r.booked_hours, r.open_hours)}</td></tr>`;
			}).join("") + "</tbody></table>" : '<p class="muted small">No rooms.</p>');

		var acts = d.activities || [];
		setHtml("activities", acts.length ? '<table class="list"><thead><tr><th>When</th><th>Activity</th><th>Category</th><th>Target group</th><th>Room</th><th>Volunteers</th></tr></thead><tbody>' +
			acts.map(function (a) {
				var short = a.needed > 0 && a.assigned < a.needed;
				return KP.html`<tr><td>${a.day} ${a.date} ${a.time}</td><td>${a.title} <span class="muted small">${a.id}</span></td>
					<td>${a.category}</td><td>${a.target}</td><td>${a.room_name || a.room || "–"}</td>` +
					'<td class="' + (short ? "short" : "") + '">' + esc(a.assigned) + " of " + esc(a.needed) + "</td></tr>";
			}).join("") + "</tbody></table>" : '<p class="muted small">No activities this week.</p>');

		var roomName = {};
		rooms.forEach(function (r) { roomName[r.id] = r.name; });
		var books = d.bookings || [];
		setHtml("bookings", books.length ? '<table class="list"><thead><tr><th>When</th><th>Room</th><th>Organisation</th><th>Status</th><th>Booking</th></tr></thead><tbody>' +
			books.map(function (b) {
				return KP.html`<tr><td>${b.day} ${b.date} ${b.time}</td><td>${roomName[b.room] || b.room}</td><td>${b.org}</td>
					<td>${b.status}</td><td class="muted small">${b.id}</td></tr>`;
			}).join("") + "</tbody></table>" : '<p class="muted small">No bookings this week.</p>');

		setHtml("lacking", lackingTable(d.lacking_volunteers || [], false));
		setHtml("police", policeTable(d.missing_police || [], d.police_unknown || 0, false));
		fillRoomSelect(rooms);
	}

	/* ---- requests (district page) ---- */

	function fillRoomSelect(rooms) {
		var sel = document.querySelector('#request-form select[name="room"]');
		var want = rooms.map(function (r) { return r.id; }).join(",");
		if (sel.getAttribute("data-rooms") === want)
			return;
		var keep = sel.value;
		sel.innerHTML = '<option value="">(no room)</option>' + rooms.map(function (r) {
			return KP.html`<option value="${r.id}">${r.name} (${r.id})</option>`;
		}).join("");
		sel.setAttribute("data-rooms", want);
		if (keep)
			sel.value = keep;
		else if (rooms.length)
			sel.value = rooms[0].id;
	}

	function showKind() {
		var form = el("request-form");
		var kind = form.elements.kind.value;
		Array.prototype.forEach.call(form.querySelectorAll(".kind-booking"), function (e) { e.hidden = kind !== "booking"; });
		Array.prototype.forEach.call(form.querySelectorAll(".kind-activity"), function (e) { e.hidden = kind !== "activity"; });
	}

	function loadRequests() {
		return KP.api("/api/requests?hub=" + encodeURIComponent(hub)).then(function (body) {
			var list = Array.isArray(body) ? body : (body && body.requests) || [];
			setHtml("requests", list.length ? '<table class="list"><thead><tr><th>Request</th><th>Kind</th><th>State</th><th>Result</th><th>Reason</th></tr></thead><tbody>' +
				list.map(function (q) {
					var cls = q.state === "accepted" ? "ok" : q.state === "refused" ? "bad" : "warn";
					return KP.html`<tr><td>${q.id}</td><td>${q.kind}</td><td><span class="badge ${cls}">${q.state}</span></td>
						<td>${q.result || "–"}</td><td>${q.reason || ""}</td></tr>`;
				}).join("") + "</tbody></table>" : '<p class="muted small">No requests to this district yet.</p>');
		}, function (err) {
			if (err.status === 404)
				setHtml("requests", '<p class="muted small">This central does not take requests yet (GET /api/requests answered 404).</p>');
			else
				setHtml("requests", KP.html`<p class="message error">${err.message}</p>`);
		});
	}

	function sendRequest(ev) {
		ev.preventDefault();
		var form = el("request-form"), f = form.elements, out = el("request-result");
		var kind = f.kind.value;
		var body = {hub: hub, kind: kind, date: f.date.value, start: f.start.value, end: f.end.value};
		if (f.room.value)
			body.room = f.room.value;
		if (kind === "booking") {
			body.org = f.org.value.trim();
		} else {
			body.title = f.title.value.trim();
			body.organiser = f.organiser.value.trim();
			body.category = f.category.value;
			body.target = f.target.value;
		}
		KP.clearError(out);
		out.textContent = "Sending…";
		KP.postJSON("/api/requests", body, out).then(function (q) {
			out.classList.add("ok");
			out.textContent = "Request " + ((q && q.id) || "") + " is " + ((q && q.state) || "stored") +
				": the district's hub executes it when it is reachable.";
			loadRequests();
		}, function (err) {
			if (err.status === 404)
				KP.showError(out, "This central does not take requests yet (POST /api/requests answered 404).");
		});
	}

	/* ---- refresh ---- */

	function refresh() {
		if (timer)
			clearTimeout(timer);
		var x = window.scrollX, y = window.scrollY;
		var req = isDistrict
			? KP.api(apiPath("/api/districts/" + encodeURIComponent(hub))).then(renderDistrict)
			: KP.api(apiPath("/api/overview")).then(renderOverview);
		var all = isDistrict ? Promise.all([req, loadRequests()]) : req;
		all.then(function () {
			KP.clearError(el("error"));
			el("status").textContent = "Updated " + KP.fmtDateTime(new Date()) + " · refreshes every " + refreshSecs + " s";
		}, function (err) {
			KP.showError(el("error"), err.message);
			el("status").textContent = "Could not update at " + KP.fmtDateTime(new Date()) + "; trying again in " + refreshSecs + " s";
		}).then(function () {
			window.scrollTo(x, y);
			timer = setTimeout(refresh, refreshSecs * 1000);
		});
	}

	el("refresh-every").textContent = String(refreshSecs);
	if (isDistrict) {
		if (!hub) {
			KP.showError(el("error"), "Say which district: open district.html?hub=HUB (the dashboard links every district).");
			el("status").textContent = "";
			return;
		}
		var form = el("request-form");
		form.elements.kind.addEventListener("change", showKind);
		form.addEventListener("submit", sendRequest);
		form.elements.date.value = week || KP.today();
		showKind();
	}
	refresh();
})();
