/*
 * hub.js - the hub's page (hub.html): sync state, the week's calendar per
 * room, today's activities with attendance, the booking form and the
 * volunteer search. Talks only to this hub's JSON API (docs/web-hub.md)
 * through KP.api() of common.js.
 */
(function () {
	"use strict";

	var el = KP.el;
	var state = {week: null, rooms: []};

	/* ---- header: hub name and sync state ---- */

	function loadStatus() {
		return KP.api("/api/status").then(function (s) {
			el("hub-name").textContent = s.name || s.hub;
			document.title = (s.name || s.hub) + " – Knutepunkt";
			var since = s.last_contact
				? "last contact " + s.last_contact.replace("T", " ")
				: "central never answered";
			var pending = s.pending + (s.pending === 1 ? " change" : " changes") +
				" not yet at central";
			el("sync-state").innerHTML = s.connected
				? KP.html`<span class="badge ok">connected</span> <span class="muted">${since} · ${pending}</span>`
				: KP.html`<span class="badge warn">offline</span> <span class="muted">${since} · ${pending}</span>`;
		}, function (e) {
			el("sync-state").innerHTML = KP.html`<span class="badge bad">no answer</span> <span class="muted">${e.message}</span>`;
		});
	}

	/* ---- the week's calendar ---- */

	function eventHtml(ev) {
		var cls = "event " + ev.kind + (ev.status === "pending" ? " pending" : "");
		return KP.html`<div class="${cls}" data-id="${ev.id}" title="${ev.id} · ${ev.status}">` +
			KP.html`<span class="time">${KP.fmtTime(ev.start)}–${KP.fmtTime(ev.end)}</span> ` +
			KP.html`<span class="what">${ev.title}</span>` +
			(ev.kind === "activity" ? KP.html` <span class="org">${ev.org}</span>` : "") +
			KP.html` <span class="id">${ev.id}</span></div>`;
	}

	function renderCalendar(cal) {
		var today = KP.today();
		var out = '<table class="grid"><thead><tr><th scope="col">Room</th>';
		cal.days.forEach(function (d, i) {
			out += KP.html`<th scope="col" class="${d === today ? "today" : ""}">${KP.WEEKDAYS[i]} ${d.slice(8, 10)}.${d.slice(5, 7)}.</th>`;
		});
		out += "</tr></thead><tbody>";
		if (!cal.rooms.length)
			out += '<tr><td colspan="8" class="muted">No rooms yet: add one with <code>knute room add</code>.</td></tr>';
		cal.rooms.forEach(function (room) {
			out += KP.html`<tr data-room="${room.id}"><th scope="row">${room.name}<span class="muted small"> ${room.id}</span></th>`;
			cal.days.forEach(function (d) {
				var evs = room.events.filter(function (ev) {
					return ev.start.slice(0, 10) === d;
				});
				out += KP.html`<td data-date="${d}" class="${d === today ? "today" : ""}">`;
				evs.forEach(function (ev) { out += eventHtml(ev); });
				out += "</td>";
			});
			out += "</tr>";
		});
		out += "</tbody></table>";
		el("calendar").innerHTML = out;
		el("week-label").textContent = cal.week + " – " + cal.end;
	}

	function loadCalendar(week) {
		if (week)
			state.week = week;
		var q = state.week ? "?week=" + encodeURIComponent(state.week) : "";
		return KP.api("/api/calendar" + q, {errorEl: el("page-error")}).then(function (cal) {
			state.week = cal.week;
			state.prev = cal.prev;
			state.next = cal.next;
			renderCalendar(cal);
		}, function () {});
	}

	/* ---- today's activities and attendance ---- */

	var STATUSES = [["present", "Present"], ["no-show", "No-show"], ["excused", "Excused"]];

	function renderToday(t) {
		el("today-label").textContent = t.date === KP.today() ? "today, " + t.date : t.date;
		if (!t.activities.length) {
			el("today").innerHTML = '<p class="muted">No activities today.</p>';
			return;
		}
		var out = '<ul class="activities">';
		t.activities.forEach(function (a) {
			out += KP.html`<li class="activity" data-id="${a.id}"><div class="activity-head">` +
				KP.html`<span class="time">${KP.fmtTime(a.start)}–${KP.fmtTime(a.end)}</span> ` +
				KP.html`<strong>${a.title}</strong> <span class="muted">${a.organiser} · ${a.room_name || "no room"} · ${a.id}</span></div>`;
			if (!a.volunteers.length) {
				out += '<p class="muted small">No volunteers assigned.</p>';
			} else {
				out += '<ul class="people">';
				a.volunteers.forEach(function (v) {
					out += KP.html`<li class="volunteer" data-volunteer="${v.id}"><span class="name">${v.name || v.id}</span> `;
					out += '<span class="attendance" role="group" aria-label="Attendance">';
					STATUSES.forEach(function (s) {
						var on = v.attendance === s[0];
						out += KP.html`<button type="button" class="att${on ? " on" : ""}" aria-pressed="${on ? "true" : "false"}" data-activity="${a.id}" data-volunteer="${v.id}" data-date="${t.date}" data-status="${s[0]}">${s[1]}</button>`;
					});
					out += KP.html`</span> <span class="att-state muted small">${v.attendance ? v.attendance : "not recorded"}</span></li>`;
				});
				out += "</ul>";
			}
			if (a.volunteers_needed)
				out += KP.html`<p class="muted small">${a.volunteers.length} of ${a.volunteers_needed} volunteers needed</p>`;
			out += "</li>";
		});
		out += "</ul>";
		el("today").innerHTML = out;
	}

	function loadToday() {
		return KP.api("/api/today", {errorEl: el("page-error")}).then(renderToday, function () {});
	}

	function onAttendance(ev) {
		var b = ev.target.closest("button.att");
		if (!b)
			return;
		b.disabled = true;
		KP.postJSON("/api/attendance", {
			activity: b.dataset.activity,
			volunteer: b.dataset.volunteer,
			date: b.dataset.date,
			status: b.dataset.status
		}, el("page-error")).then(function () {
			KP.clearError(el("page-error"));
			return loadToday();
		}, function () {
			b.disabled = false;
		});
	}

	/* ---- booking form ---- */

	function fillRooms(rooms) {
		state.rooms = rooms;
		var sel = document.querySelector('#booking-form select[name="room"]');
		var keep = sel.value;
		sel.innerHTML = rooms.map(function (r) {
			return KP.html`<option value="${r.id}">${r.name} (${r.id}, ${r.capacity} places)</option>`;
		}).join("");
		if (keep)
			sel.value = keep;
		el("room-feeds").innerHTML = rooms.length
			? "<p>Per room:</p><ul class=\"feeds\">" + rooms.map(function (r) {
				var q = "?room=" + encodeURIComponent(r.id);
				return KP.html`<li>${r.name}: <a href="/feeds/bookings.ics${q}">iCalendar</a> · <a href="/feeds/bookings.csv${q}">CSV</a></li>`;
			}).join("") + "</ul>"
			: "";
	}

	function loadRooms() {
		return KP.api("/api/rooms", {errorEl: el("page-error")}).then(function (r) {
			fillRooms(r.rooms);
		}, function () {});
	}

	function onBook(ev) {
		ev.preventDefault();
		var f = ev.target, result = el("booking-result");
		var body = {
			room: f.room.value,
			org: f.org.value.trim(),
			date: f.date.value,
			start: f.start.value,
			end: f.end.value
		};
		if (f.contact.value.trim())
			body.contact = f.contact.value.trim();
		if (f.purpose.value.trim())
			body.purpose = f.purpose.value.trim();
		if (f.weekly.checked) {
			body.weekly = true;
			var days = Array.prototype.filter.call(f.querySelectorAll('input[name="days"]'), function (c) {
				return c.checked;
			}).map(function (c) { return c.value; });
			if (days.length)
				body.days = days;
			body.until = f.until.value;
		}
		if (f.pending.checked)
			body.status = "pending";
		result.textContent = "Booking…";
		result.className = "message";
		KP.postJSON("/api/bookings", body).then(function (rec) {
			result.textContent = "Booked " + rec.id;
			result.className = "message ok";
			return loadCalendar(body.date);
		}, function (e) {
			KP.showError(result, e.message);
		});
	}

	/* ---- volunteer search ---- */

	function onSearch(ev) {
		if (ev)
			ev.preventDefault();
		var f = el("volunteer-search");
		var q = ["skill", "language", "day", "from", "to"].filter(function (n) {
			return f[n].value.trim();
		}).map(function (n) {
			return n + "=" + encodeURIComponent(f[n].value.trim());
		}).join("&");
		KP.clearError(el("volunteer-error"));
		return KP.api("/api/volunteers" + (q ? "?" + q : ""), {errorEl: el("volunteer-error")}).then(function (r) {
			if (!r.volunteers.length) {
				el("volunteers").innerHTML = '<p class="muted">Nobody matches.</p>';
				return;
			}
			var out = '<p class="muted small">' + r.count + (r.count === 1 ? " volunteer" : " volunteers") + '</p>' +
				'<table class="list"><thead><tr><th>Name</th><th>Organisation</th><th>Skills</th><th>Languages</th><th>Available</th><th>Police certificate</th></tr></thead><tbody>';
			r.volunteers.forEach(function (v) {
				out += KP.html`<tr data-id="${v.id}"><td>${v.name}</td><td>${v.org || ""}</td><td>${v.skills.join(", ")}</td><td>${v.languages.join(", ")}</td><td>${v.availability || ""}</td><td>${v.police ? "shown" + (v.police_role ? " (" + v.police_role + ")" : "") : "not shown"}</td></tr>`;
			});
			el("volunteers").innerHTML = out + "</tbody></table>";
		}, function () {
			el("volunteers").innerHTML = "";
		});
	}

	/* ---- start ---- */

	function init() {
		var f = el("booking-form");
		if (!f.date.value)
			f.date.value = KP.today();
		f.addEventListener("submit", onBook);
		el("volunteer-search").addEventListener("submit", onSearch);
		el("today").addEventListener("click", onAttendance);
		el("week-prev").addEventListener("click", function () { loadCalendar(state.prev); });
		el("week-next").addEventListener("click", function () { loadCalendar(state.next); });
		el("week-today").addEventListener("click", function () { loadCalendar(KP.today()); });
		loadStatus();
		loadRooms();
		loadCalendar(null);
		loadToday();
		onSearch();
		setInterval(loadStatus, 10000);
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", init);
	else
		init();
})();
