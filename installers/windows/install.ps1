<#
.SYNOPSIS
  Installs, upgrades or removes the eolwatch agent as a Windows service, for
  machines where the MSI is not used.

.DESCRIPTION
  Copies eolwatch-agent.exe to "C:\Program Files\eolwatch\agent", lets the agent
  register its own service (eolwatch-agent install, the same definition the
  MSI creates), stores the server URL and enroll secret in the service's
  environment (EOLWATCH_SERVER, EOLWATCH_ENROLL_SECRET) and starts it.
  Run from an elevated PowerShell next to eolwatch-agent.exe.

.EXAMPLE
  .\eolwatch-agent-install.ps1 -Server https://eolwatch.example.com -EnrollSecret SECRET

.EXAMPLE
  .\eolwatch-agent-install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    [string]$Server,
    [string]$EnrollSecret,
    [string]$Exe = (Join-Path $PSScriptRoot 'eolwatch-agent.exe'),
    [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script from an elevated (Administrator) PowerShell.'
}

$name = 'eolwatch-agent'
$dir = Join-Path $env:ProgramFiles 'eolwatch\agent'
$target = Join-Path $dir 'eolwatch-agent.exe'
$svcKey = "HKLM:\SYSTEM\CurrentControlSet\Services\$name"
$existing = Get-Service -Name $name -ErrorAction SilentlyContinue

if ($Uninstall) {
    if ($existing) {
        if ($existing.Status -ne 'Stopped') { Stop-Service -Name $name -Force }
        & $target uninstall
        if ($LASTEXITCODE -ne 0) { throw "eolwatch-agent uninstall failed ($LASTEXITCODE)" }
    }
    Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    Write-Host "eolwatch-agent removed; config and state stay in $env:ProgramData\eolwatch"
    return
}

if (-not (Test-Path $Exe)) { throw "eolwatch-agent.exe not found at $Exe (use -Exe PATH)" }
$sig = Get-AuthenticodeSignature $Exe
if ($sig.Status -ne 'Valid') {
    Write-Warning "eolwatch-agent.exe signature: $($sig.Status) ($($sig.StatusMessage))"
}
if ($Server -and -not ($Server -match '^https://' -or $Server -match '^http://(127\.|localhost)')) {
    throw "-Server ${Server}: use an https:// URL"
}

if ($existing -and $existing.Status -ne 'Stopped') { Stop-Service -Name $name -Force }
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Copy-Item -Force $Exe $target

if (-not $existing) {
    & $target install
    if ($LASTEXITCODE -ne 0) { throw "eolwatch-agent install failed ($LASTEXITCODE)" }
}

# Keep settings given earlier unless new ones are given.
$envOld = @((Get-ItemProperty -Path $svcKey -Name Environment -ErrorAction SilentlyContinue).Environment)
$vars = [ordered]@{}
foreach ($kv in $envOld) { if ($kv -match '^([^=]+)=(.*)$') { $vars[$Matches[1]] = $Matches[2] } }
if ($Server) { $vars['EOLWATCH_SERVER'] = $Server }
if ($EnrollSecret) { $vars['EOLWATCH_ENROLL_SECRET'] = $EnrollSecret }
$envNew = @($vars.GetEnumerator() | Where-Object { $_.Value } | ForEach-Object { "$($_.Key)=$($_.Value)" })
if ($envNew.Count -gt 0) {
    New-ItemProperty -Path $svcKey -Name Environment -PropertyType MultiString -Value $envNew -Force | Out-Null
}

Set-Service -Name $name -StartupType Automatic
Start-Service -Name $name
Get-Service -Name $name | Format-Table -AutoSize Name, Status, StartType
Write-Host "Logs: Event Viewer > Windows Logs > Application, source $name"
