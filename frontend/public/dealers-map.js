// Maps of the dealer pages, drawn with Leaflet (served from /vendor/leaflet, no CDN).
// The SPA calls window.dealernetMap.render(elementId, specJson) with
//   { tile_url, markers: [{lat, lon, label, tone}], circles: [{lat, lon, radius_km, label}],
//     polygons: [{points: [[lat, lon], ...], label}], pick: bool }
// Without a tile URL the map is drawn on a plain background (no tile server is needed).
// With `pick`, a click puts the pin there and fires `dealernet-map-pick` {id, lat, lon} on window.
(function () {
  'use strict';
  var maps = {};
  var tones = { success: '#1a7f4b', info: '#1f5fbf', warning: '#b26a00', danger: '#b42318', neutral: '#475467' };

  function render(id, specJson) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var spec = JSON.parse(specJson || '{}');
    if (typeof L === 'undefined') {
      el.classList.add('map-unavailable');
      el.textContent = el.getAttribute('data-unavailable') || 'Map unavailable';
      return;
    }
    var entry = maps[id];
    if (!entry || entry.el !== el) {
      if (entry) { entry.map.remove(); }
      var map = L.map(el, { zoomControl: true, attributionControl: false, preferCanvas: true });
      entry = { el: el, map: map, layer: L.featureGroup().addTo(map), pin: null, tiles: null };
      maps[id] = entry;
      map.on('click', function (e) {
        if (!entry.pick) { return; }
        setPin(entry, e.latlng.lat, e.latlng.lng);
        window.dispatchEvent(new CustomEvent('dealernet-map-pick', {
          detail: { id: id, lat: round(e.latlng.lat), lon: round(e.latlng.lng) }
        }));
      });
    }
    entry.pick = !!spec.pick;
    el.classList.toggle('map-pick', entry.pick);
    if (spec.tile_url && !entry.tiles) {
      entry.tiles = L.tileLayer(spec.tile_url, { maxZoom: 19 }).addTo(entry.map);
    }
    el.classList.toggle('map-no-tiles', !spec.tile_url);
    entry.layer.clearLayers();
    (spec.polygons || []).forEach(function (p) {
      L.polygon(p.points, { color: tones.info, weight: 2, fillOpacity: 0.12 })
        .bindTooltip(p.label || '').addTo(entry.layer);
    });
    (spec.circles || []).forEach(function (c) {
      L.circle([c.lat, c.lon], { radius: c.radius_km * 1000, color: tones.info, weight: 2, fillOpacity: 0.1 })
        .bindTooltip(c.label || '').addTo(entry.layer);
    });
    (spec.markers || []).forEach(function (m) {
      var colour = tones[m.tone] || tones.neutral;
      L.circleMarker([m.lat, m.lon], { radius: 7, color: '#fff', weight: 2, fillColor: colour, fillOpacity: 1 })
        .bindTooltip(m.label || '').addTo(entry.layer);
    });
    if (spec.pin) { setPin(entry, spec.pin.lat, spec.pin.lon); }
    else if (entry.pin) { entry.map.removeLayer(entry.pin); entry.pin = null; }
    var bounds = entry.layer.getBounds();
    if (entry.pin) { bounds = bounds.isValid() ? bounds.extend(entry.pin.getLatLng()) : L.latLngBounds([entry.pin.getLatLng()]); }
    if (bounds.isValid()) {
      entry.map.fitBounds(bounds.pad(0.15), { maxZoom: 13 });
    } else {
      entry.map.setView([spec.lat || 55.7558, spec.lon || 37.6173], spec.zoom || 9);
    }
    setTimeout(function () { entry.map.invalidateSize(); }, 50);
  }

  function setPin(entry, lat, lon) {
    if (entry.pin) { entry.pin.setLatLng([lat, lon]); }
    else {
      entry.pin = L.circleMarker([lat, lon], { radius: 9, color: '#fff', weight: 3, fillColor: tones.danger, fillOpacity: 1 })
        .addTo(entry.map);
    }
  }

  function round(x) { return Math.round(x * 1e6) / 1e6; }

  function forget(id) {
    var entry = maps[id];
    if (entry) { entry.map.remove(); delete maps[id]; }
  }

  window.dealernetMap = { render: render, forget: forget };
})();
