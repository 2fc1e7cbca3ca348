// Command webapp is a demo of sessdb's web package: a login form, a "your
// devices" page listing the user's sessions (SESS.LIST) with "sign out this
// device" and "sign out all other devices", and optionally the sessions admin
// page at /admin/.
//
//	go run ./examples/webapp                              # http://localhost:8080, data in ./webapp-data
//	go run ./examples/webapp -resp 127.0.0.1:6379         # against a running sessdb server
//	go run ./examples/webapp -admin-password s3cret       # also serve /admin/ (user "admin")
//
// Demo accounts: any user name (letters, digits, '.', '_' or '-', up to 64)
// with the password "demo" (the -password flag changes it). Sign in as the
// same user from two browsers (or a normal and a private window), then "sign
// out all other devices" in one: the other is sent to the login page on its
// next click.
//
// The cookies are Secure and __Host- prefixed; browsers accept that on
// http://localhost, which they treat as a secure context. On any other plain
// HTTP host, pass -insecure-cookies (development only).
package main
