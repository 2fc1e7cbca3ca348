package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Ensure that the post-login redirect only goes to a path of this site.
func TestLocalPath_OnlySameSite(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/devices",
		"/devices?x=1":          "/devices?x=1",
		"//evil.example/":       "/devices",
		"/\\evil.example":       "/devices",
		"https://evil.example/": "/devices",
		"javascript:alert(1)":   "/devices",
	} {
		assert.Equal(t, want, localPath(in), in)
	}
}

// Ensure that user agents become short device names.
func TestDeviceName_Names(t *testing.T) {
	for ua, want := range map[string]string{
		uaLaptop:     "Chrome on Linux",
		uaPhone:      "Safari on iPhone",
		uaTablet:     "Firefox on macOS",
		"curl/8.5.0": "curl",
		"":           "Unknown device",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
	} {
		assert.Equal(t, want, deviceName(ua), ua)
	}
}
