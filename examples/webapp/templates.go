package main

// templates are the demo's pages: "login" and "devices".
const templates = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · sessdb demo</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<main>
<div class="card login">
<h2>Sign in</h2>
<p class="muted">Demo: any user name, password <code>demo</code>.</p>
{{if .SignedInAs}}<p class="msg" id="signed-in">Signed in as {{.SignedInAs}}. Signing in again replaces this session. <a href="/devices">Your devices</a></p>{{end}}
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<form method="post" action="/login" id="login-form">
  <input type="hidden" name="csrf_token" value="{{.CSRF}}">
  <input type="hidden" name="next" value="{{.Next}}">
  <label for="user">User name</label>
  <input type="text" id="user" name="user" value="{{.User}}" autocomplete="username" maxlength="64" required autofocus>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" maxlength="256" required>
  <button type="submit" id="login">Sign in</button>
</form>
</div>
</main>
</body>
</html>{{end}}

{{define "devices"}}{{template "head" "Your devices"}}
<header>
  <h1>sessdb demo · signed in as <span id="whoami">{{.User}}</span></h1>
  <form method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{.CSRF}}">
    <button type="submit" class="secondary" id="logout">Sign out this device</button>
  </form>
</header>
<main>
{{if .Message}}<p class="msg" id="msg">{{.Message}}</p>{{end}}
<div class="card">
<h2>Your devices</h2>
<p class="muted">Every browser signed in to your account. Signing one out takes effect on its next click.</p>
<table id="devices">
<thead><tr><th>Device</th><th>IP address</th><th>Signed in</th><th>Last seen</th><th>Expires if idle</th><th></th></tr></thead>
<tbody>
{{range .Devices}}
<tr data-id="{{.ID}}"{{if eq .ID $.Current.ID}} class="current"{{end}}>
  <td title="{{index .Meta "ua"}}">{{device (index .Meta "ua")}}{{if eq .ID $.Current.ID}}<span class="badge">this device</span>{{end}}</td>
  <td>{{index .Meta "ip"}}</td>
  <td>{{ago .Created}}</td>
  <td>{{ago .LastSeen}}</td>
  <td>{{until .IdleDeadline}}</td>
  <td>{{if ne .ID $.Current.ID}}
    <form method="post" action="/devices/revoke">
      <input type="hidden" name="csrf_token" value="{{$.CSRF}}">
      <input type="hidden" name="id" value="{{.ID}}">
      <button type="submit" class="secondary">Sign out</button>
    </form>{{end}}
  </td>
</tr>
{{end}}
</tbody>
</table>
<div class="actions">
  <form method="post" action="/logout-others">
    <input type="hidden" name="csrf_token" value="{{.CSRF}}">
    <button type="submit" class="danger" id="logout-others">Sign out all other devices</button>
  </form>
</div>
</div>
</main>
</body>
</html>{{end}}
`
