package agent

const isDarwin = true
