package admin

// pageHTML is the one admin page: counters, the user search and, after a
// search, the user's sessions with their revoke buttons.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sessdb admin{{if .Query}} · {{.Query}}{{end}}</title>
<link rel="stylesheet" href="{{path "admin.css"}}">
<script src="{{path "admin.js"}}" defer></script>
</head>
<body>
<header><h1>sessdb · sessions admin</h1><span class="muted">signed in as {{.Operator}}</span></header>
<main>
<section class="counters" id="counters" data-src="{{path "counters.json"}}" data-interval="{{.Interval}}">
  <div class="counter"><b id="c-sessions">{{.Counters.Sessions}}</b><span>live sessions</span></div>
  <div class="counter"><b id="c-users">{{.Counters.Users}}</b><span>users</span></div>
  <div class="counter"><b id="c-rate">–</b><span>commands/s</span></div>
</section>
{{if .Message}}<p class="msg" id="msg">{{.Message}}</p>{{end}}
<form class="search" method="get" action="{{path ""}}">
  <input type="text" name="user" id="user" placeholder="user name" value="{{.Query}}" maxlength="512" required>
  <button type="submit" id="search">Search</button>
</form>
{{if .Searched}}
<h2>Sessions of {{.Query}} ({{len .Sessions}})</h2>
{{if .Sessions}}
<table id="sessions">
<thead><tr><th>id</th><th>device</th><th>IP</th><th>created</th><th>last seen</th><th>idle deadline</th><th>absolute deadline</th><th></th></tr></thead>
<tbody>
{{range .Sessions}}
<tr data-id="{{.ID}}">
  <td><code>{{.ID}}</code></td>
  <td class="ua">{{with index .Meta "ua"}}{{.}}{{else}}<span class="muted">unknown</span>{{end}}{{with meta .Meta}}<br><span class="muted">{{.}}</span>{{end}}</td>
  <td>{{index .Meta "ip"}}</td>
  <td>{{when .Created}}</td>
  <td>{{when .LastSeen}}</td>
  <td>{{when .IdleDeadline}}</td>
  <td>{{when .AbsoluteDeadline}}</td>
  <td>
    <form method="post" action="{{path "revoke"}}">
      <input type="hidden" name="csrf_token" value="{{$.CSRF}}">
      <input type="hidden" name="user" value="{{$.Query}}">
      <input type="hidden" name="id" value="{{.ID}}">
      <button type="submit" class="link revoke">Revoke</button>
    </form>
  </td>
</tr>
{{end}}
</tbody>
</table>
<div class="actions">
  <form method="post" action="{{path "revoke-all"}}">
    <input type="hidden" name="csrf_token" value="{{.CSRF}}">
    <input type="hidden" name="user" value="{{.Query}}">
    <button type="submit" class="danger" id="revoke-all">Revoke all {{len .Sessions}} sessions</button>
  </form>
</div>
{{else}}
<p class="muted" id="none">No live sessions.</p>
{{end}}
{{end}}
</main>
</body>
</html>
`
