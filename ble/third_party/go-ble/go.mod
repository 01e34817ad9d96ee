module github.com/go-ble/ble

go 1.13

require (
	github.com/mattn/go-colorable v0.1.6 // indirect
	github.com/mgutz/ansi v0.0.0-20170206155736-9520e82c474b // indirect
	github.com/mgutz/logxi v0.0.0-20161027140823-aebf8a7d67ab
	github.com/pkg/errors v0.8.1
	golang.org/x/sys v0.0.0-20211204120058-94396e421777
)
