package match

import (
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// programsCatalog adds products the default catalog lacks, so the rules
// waiting for them can be checked: a site adds such a catalog file.
const programsCatalog = `{"format": "eolwatch-catalog/v1", "source": "test", "products": [
 {"id": "microsoft-edge", "label": "Microsoft Edge", "category": "app", "cycles": [{"name": "120", "release": "2023-12-07", "eol": false}]},
 {"id": "thunderbird", "label": "Mozilla Thunderbird", "category": "app", "cycles": [{"name": "115", "release": "2023-07-11", "eol": false}]},
 {"id": "acrobat-reader", "label": "Adobe Acrobat Reader", "category": "app", "cycles": [{"name": "23", "release": "2023-01-10", "eol": false}]},
 {"id": "acrobat", "label": "Adobe Acrobat", "category": "app", "cycles": [{"name": "23", "release": "2023-01-10", "eol": false}]},
 {"id": "intellij-idea", "label": "IntelliJ IDEA", "category": "app", "cycles": [{"name": "2023.3", "release": "2023-12-06", "eol": false}]},
 {"id": "pycharm", "label": "PyCharm", "category": "app", "cycles": [{"name": "2023.3", "release": "2023-12-06", "eol": false}]},
 {"id": "zoom", "label": "Zoom", "category": "app", "cycles": [{"name": "5", "release": "2020-04-01", "eol": false}]},
 {"id": "7-zip", "label": "7-Zip", "category": "app", "cycles": [{"name": "23", "release": "2023-06-20", "eol": false}]},
 {"id": "vlc", "label": "VLC media player", "category": "app", "cycles": [{"name": "3.0", "release": "2018-02-09", "eol": false}]},
 {"id": "putty", "label": "PuTTY", "category": "app", "cycles": [{"name": "0.80", "release": "2023-12-18", "eol": false}]},
 {"id": "git", "label": "Git", "category": "app", "cycles": [{"name": "2.43", "release": "2023-11-20", "eol": false}]},
 {"id": "visual-cpp-redistributable", "label": "Visual C++ Redistributable", "category": "app", "cycles": [{"name": "14", "release": "2015-07-20", "eol": false}]}]}`

// program is one real-world Windows Uninstall entry or macOS app.
type program struct {
	name, publisher, version, bundle string
	product, want                    string // product "" = no match
	cycle                            string // the catalog cycle of the match ("" = not checked)
}

// windowsPrograms are DisplayName/Publisher/DisplayVersion triples as the
// registry's Uninstall keys hold them on real machines: editions,
// architectures ("(x64)", "64-bit", "x86"), language suffixes ("(x64 en-US)",
// "- de-de"), and the component, update and add-in entries installed beside
// a product, which are not the product.
var windowsPrograms = []program{
	// Microsoft Office: the release is the year.
	{name: "Microsoft Office Professional Plus 2019 - en-us", publisher: "Microsoft Corporation", version: "16.0.10405.20015", product: "office", want: "2019", cycle: "2019"},
	{name: "Microsoft Office Professional Plus 2016", publisher: "Microsoft Corporation", version: "16.0.4266.1001", product: "office", want: "2016", cycle: "2016"},
	{name: "Microsoft Office Standard 2013", publisher: "Microsoft Corporation", version: "15.0.4569.1506", product: "office", want: "2013", cycle: "2013"},
	{name: "Microsoft Office LTSC Professional Plus 2021 - de-de", publisher: "Microsoft Corporation", version: "16.0.14332.20615", product: "office", want: "2021", cycle: "2021"},
	{name: "Microsoft Office LTSC Professional Plus 2024 - en-us", publisher: "Microsoft Corporation", version: "16.0.17932.20162", product: "office", want: "2024-ltsc", cycle: "2024-ltsc"},
	{name: "Microsoft Office Home and Business 2021 - fr-fr", publisher: "Microsoft Corporation", version: "16.0.17328.20184", product: "office", want: "2021", cycle: "2021"},
	{name: "Microsoft Office Professional Plus 2010", publisher: "Microsoft Corporation", version: "14.0.7015.1000", product: "office", want: "2010", cycle: "2010"},
	{name: "Microsoft 365 Apps for enterprise - en-us", publisher: "Microsoft Corporation", version: "16.0.17328.20184"},
	{name: "Microsoft Office Proofing Tools 2016 - Deutsch", publisher: "Microsoft Corporation", version: "16.0.4266.1001"},
	{name: "Microsoft Office File Validation Add-In", publisher: "Microsoft Corporation", version: "14.0.5130.5003"},
	{name: "Microsoft Office 2007 Service Pack 3 (SP3)", publisher: "Microsoft Corporation", version: ""},
	{name: "Microsoft Visual Studio 2010 Tools for Office Runtime (x64)", publisher: "Microsoft Corporation", version: "10.0.60910"},
	// .NET and .NET Framework: runtimes yes, SDKs and targeting packs no.
	{name: "Microsoft .NET Runtime - 8.0.1 (x64)", publisher: "Microsoft Corporation", version: "64.4.31217", product: "dotnet", want: "8.0.1", cycle: "8"},
	{name: "Microsoft Windows Desktop Runtime - 8.0.1 (x64)", publisher: "Microsoft Corporation", version: "64.4.31218", product: "dotnet", want: "8.0.1", cycle: "8"},
	{name: "Microsoft ASP.NET Core 8.0.1 - Shared Framework (x64)", publisher: "Microsoft Corporation", version: "8.0.1.23607", product: "dotnet", want: "8.0.1", cycle: "8"},
	{name: "Microsoft .NET 8.0.1 - Windows Server Hosting", publisher: "Microsoft Corporation", version: "8.0.1.23607", product: "dotnet", want: "8.0.1", cycle: "8"},
	{name: "Microsoft .NET Host - 8.0.1 (x64)", publisher: "Microsoft Corporation", version: "64.4.31217", product: "dotnet", want: "8.0.1", cycle: "8"},
	{name: "Microsoft .NET Core Runtime - 3.1.32 (x86)", publisher: "Microsoft Corporation", version: "24.128.31928", product: "dotnet", want: "3.1.32", cycle: "3.1"},
	{name: "Microsoft .NET SDK 8.0.101 (x64)", publisher: "Microsoft Corporation", version: "8.1.123.61115"},
	{name: "Microsoft .NET Toolset 8.0.101 (x64)", publisher: "Microsoft Corporation", version: "32.4.31217"},
	{name: "Microsoft ASP.NET Core 8.0.1 Targeting Pack (x64)", publisher: "Microsoft Corporation", version: "8.0.1.23607"},
	{name: "Microsoft .NET Framework 4.8.1", publisher: "Microsoft Corporation", version: "4.8.09032", product: "dotnetfx", want: "4.8.1", cycle: "4.8.1"},
	{name: "Microsoft .NET Framework 4.7.2 Targeting Pack", publisher: "Microsoft Corporation", version: "4.7.03062"},
	{name: "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135", publisher: "Microsoft Corporation", version: "14.38.33135.0", product: "visual-cpp-redistributable", want: "14.38.33135.0"},
	{name: "Microsoft Visual C++ 2013 Redistributable (x86) - 12.0.40664", publisher: "Microsoft Corporation", version: "12.0.40664.0", product: "visual-cpp-redistributable", want: "12.0.40664.0"},
	// SQL Server: the engine's entry says the release and update.
	{name: "SQL Server 2019 Database Engine Services", publisher: "Microsoft Corporation", version: "15.0.4312.2", product: "mssqlserver", want: "15.0.4312.2", cycle: "15.0"},
	{name: "SQL Server 2022 Database Engine Services", publisher: "Microsoft Corporation", version: "16.0.4095.4", product: "mssqlserver", want: "16.0.4095.4", cycle: "16.0"},
	{name: "Microsoft SQL Server 2019 LocalDB", publisher: "Microsoft Corporation", version: "15.0.4153.1", product: "mssqlserver", want: "15.0.4153.1", cycle: "15.0"},
	{name: "Microsoft SQL Server 2019 (64-bit)", publisher: "Microsoft Corporation"},
	{name: "Microsoft SQL Server Management Studio - 19.3", publisher: "Microsoft Corporation", version: "19.3.4.0"},
	{name: "Microsoft SQL Server 2012 Native Client", publisher: "Microsoft Corporation", version: "11.4.7462.6"},
	{name: "Microsoft ODBC Driver 18 for SQL Server", publisher: "Microsoft Corporation", version: "18.3.2.1"},
	// Java.
	{name: "Java 8 Update 391 (64-bit)", publisher: "Oracle Corporation", version: "8.0.3910.13", product: "oracle-jdk", want: "8u391", cycle: "8"},
	{name: "Java SE Development Kit 8 Update 391 (64-bit)", publisher: "Oracle Corporation", version: "8.0.3910.13", product: "oracle-jdk", want: "8u391", cycle: "8"},
	{name: "Java(TM) SE Development Kit 17.0.9 (64-bit)", publisher: "Oracle Corporation", version: "17.0.9.0", product: "oracle-jdk", want: "17.0.9", cycle: "17"},
	{name: "Java SE Development Kit 21.0.2 (64-bit)", publisher: "Oracle Corporation", version: "21.0.2.0", product: "oracle-jdk", want: "21.0.2", cycle: "21"},
	{name: "Java Auto Updater", publisher: "Oracle Corporation", version: "2.8.391.13"},
	{name: "Eclipse Temurin JDK with Hotspot 17.0.9+9 (x64)", publisher: "Eclipse Adoptium", version: "17.0.9.9", product: "eclipse-temurin", want: "17.0.9+9", cycle: "17"},
	{name: "Eclipse Temurin JRE with Hotspot 8u392-b08 (x64)", publisher: "Eclipse Adoptium", version: "8.0.392.8", product: "eclipse-temurin", want: "8u392-b08", cycle: "8"},
	{name: "Microsoft Build of OpenJDK with Hotspot 17.0.9+8 (x64)", publisher: "Microsoft", version: "17.0.9.8", product: "microsoft-build-of-openjdk", want: "17.0.9+8", cycle: "17"},
	{name: "Amazon Corretto 17.0.9.8.1 (x64)", publisher: "Amazon", version: "17.0.9.8", product: "amazon-corretto", want: "17.0.9.8", cycle: "17"},
	{name: "Zulu 17.46+19 (17.0.9), 64-bit", publisher: "Azul Systems, Inc.", version: "17.46.19", product: "azul-zulu", want: "17.46.19", cycle: "17"},
	// Browsers, mail, readers.
	{name: "Mozilla Firefox (x64 en-US)", publisher: "Mozilla", version: "121.0", product: "firefox", want: "121.0"},
	{name: "Mozilla Firefox 121.0 (x64 de)", publisher: "Mozilla", version: "121.0", product: "firefox", want: "121.0"},
	{name: "Mozilla Firefox (x86 en-GB)", publisher: "Mozilla", version: "121.0.1", product: "firefox", want: "121.0.1"},
	{name: "Mozilla Firefox ESR (x64 en-US)", publisher: "Mozilla", version: "115.6.0", product: "firefox", want: "115.6.0"},
	{name: "Mozilla Maintenance Service", publisher: "Mozilla", version: "121.0"},
	{name: "Mozilla Thunderbird (x64 en-US)", publisher: "Mozilla", version: "115.6.0", product: "thunderbird", want: "115.6.0"},
	{name: "Google Chrome", publisher: "Google LLC", version: "120.0.6099.130", product: "chrome", want: "120.0.6099.130"},
	{name: "Google Update Helper", publisher: "Google LLC", version: "1.3.36.352"},
	{name: "Microsoft Edge", publisher: "Microsoft Corporation", version: "120.0.2210.91", product: "microsoft-edge", want: "120.0.2210.91"},
	{name: "Microsoft Edge WebView2 Runtime", publisher: "Microsoft Corporation", version: "120.0.2210.91"},
	{name: "Adobe Acrobat Reader DC (64-bit)", publisher: "Adobe", version: "23.008.20470", product: "acrobat-reader", want: "23.008.20470"},
	{name: "Adobe Acrobat Reader - Deutsch", publisher: "Adobe", version: "23.008.20470", product: "acrobat-reader", want: "23.008.20470"},
	{name: "Adobe Acrobat (64-bit)", publisher: "Adobe", version: "23.008.20470", product: "acrobat", want: "23.008.20470"},
	{name: "Adobe Acrobat DC", publisher: "Adobe Systems Incorporated", version: "23.008.20470", product: "acrobat", want: "23.008.20470"},
	{name: "Adobe Refresh Manager", publisher: "Adobe Systems Incorporated", version: "1.8.0"},
	// Languages, databases, tools.
	{name: "Python 3.11.5 (64-bit)", publisher: "Python Software Foundation", version: "3.11.5150.0", product: "python", want: "3.11.5", cycle: "3.11"},
	{name: "Python 3.12.1 (32-bit)", publisher: "Python Software Foundation", version: "3.12.1150.0", product: "python", want: "3.12.1", cycle: "3.12"},
	{name: "Python 2.7.18", publisher: "Python Software Foundation", version: "2.7.18150", product: "python", want: "2.7.18", cycle: "2.7"},
	{name: "Python 3.11.5 Core Interpreter (64-bit)", publisher: "Python Software Foundation", version: "3.11.5150.0"},
	{name: "Python 3.11.5 Test Suite (64-bit)", publisher: "Python Software Foundation", version: "3.11.5150.0"},
	{name: "Python Launcher", publisher: "Python Software Foundation", version: "3.11.5150.0"},
	{name: "Node.js", publisher: "Node.js Foundation", version: "20.11.0", product: "nodejs", want: "20.11.0", cycle: "20"},
	{name: "Git", publisher: "The Git Development Community", version: "2.43.0", product: "git", want: "2.43.0"},
	{name: "PostgreSQL 16 ", publisher: "PostgreSQL Global Development Group", version: "16.1", product: "postgresql", want: "16.1", cycle: "16"},
	{name: "MySQL Server 8.0", publisher: "Oracle Corporation", version: "8.0.35", product: "mysql", want: "8.0.35", cycle: "8.0"},
	{name: "MySQL Workbench 8.0 CE", publisher: "Oracle Corporation", version: "8.0.36"},
	{name: "MySQL Shell 8.0.35", publisher: "Oracle Corporation", version: "8.0.35"},
	{name: "MySQL Connector/ODBC 8.0", publisher: "Oracle Corporation", version: "8.0.35"},
	{name: "MariaDB 11.2 (x64)", publisher: "MariaDB Corporation Ab", version: "11.2.2.0", product: "mariadb", want: "11.2.2.0", cycle: "11.2"},
	{name: "PowerShell 7-x64", publisher: "Microsoft Corporation", version: "7.4.1.0", product: "powershell", want: "7.4.1.0", cycle: "7.4"},
	{name: "Visual Studio Community 2022", publisher: "Microsoft Corporation", version: "17.8.34330.188", product: "visual-studio", want: "17.8.34330.188", cycle: "17.8"},
	{name: "Visual Studio Build Tools 2019", publisher: "Microsoft Corporation", version: "16.11.33027.164", product: "visual-studio", want: "16.11.33027.164", cycle: "16.11"},
	{name: "Microsoft Visual Studio Code", publisher: "Microsoft Corporation", version: "1.85.1"},
	{name: "Microsoft Visual Studio Installer", publisher: "Microsoft Corporation", version: "3.8.2112.61926"},
	{name: "Notepad++ (64-bit x64)", publisher: "Notepad++ Team", version: "8.6", product: "notepad-plus-plus", want: "8.6", cycle: "8.6"},
	{name: "Oracle VM VirtualBox 7.0.12", publisher: "Oracle Corporation", version: "7.0.12", product: "virtualbox", want: "7.0.12", cycle: "7.0"},
	{name: "Oracle VirtualBox 7.1.4", publisher: "Oracle Corporation", version: "7.1.4", product: "virtualbox", want: "7.1.4", cycle: "7.1"},
	{name: "Wireshark 4.2.0 64-bit", publisher: "The Wireshark developer community, https://www.wireshark.org", version: "4.2.0", product: "wireshark", want: "4.2.0", cycle: "4.2"},
	{name: "Wireshark 4.2.2 x64", publisher: "The Wireshark developer community, https://www.wireshark.org", version: "4.2.2", product: "wireshark", want: "4.2.2", cycle: "4.2"},
	{name: "Npcap", publisher: "Nmap Project", version: "1.78"},
	{name: "USBPcap 1.5.4.0", publisher: "Tomasz Mon", version: "1.5.4.0"},
	{name: "LibreOffice 7.6.4.1", publisher: "The Document Foundation", version: "7.6.4.1", product: "libreoffice", want: "7.6.4.1", cycle: "7.6"},
	{name: "LibreOffice 24.2.0.3 Help Pack (English (United Kingdom))", publisher: "The Document Foundation", version: "24.2.0.3"},
	{name: "Zabbix Agent 2 (64-bit)", publisher: "Zabbix SIA", version: "6.4.10.2400", product: "zabbix", want: "6.4.10.2400", cycle: "6.4"},
	{name: "Apache Tomcat 9.0 Tomcat9 (remove only)", publisher: "The Apache Software Foundation", version: "9.0.83", product: "tomcat", want: "9.0.83", cycle: "9.0"},
	{name: "GlobalProtect", publisher: "Palo Alto Networks", version: "6.2.1", product: "pangp", want: "6.2.1", cycle: "6.2"},
	{name: "Unity 2022.3.10f1", publisher: "Unity Technologies ApS", version: "2022.3.10f1", product: "unity", want: "2022.3.10f1"},
	{name: "Unity Hub 3.7.0", publisher: "Unity Technologies Inc.", version: "3.7.0"},
	{name: "IntelliJ IDEA Community Edition 2023.3.2", publisher: "JetBrains s.r.o.", version: "233.13135.103", product: "intellij-idea", want: "2023.3.2"},
	{name: "PyCharm 2023.3.2", publisher: "JetBrains s.r.o.", version: "233.13135.95", product: "pycharm", want: "2023.3.2"},
	{name: "JetBrains Toolbox", publisher: "JetBrains s.r.o.", version: "2.1.3.18901"},
	{name: "Zoom", publisher: "Zoom Video Communications, Inc.", version: "5.17.5 (31030)", product: "zoom", want: "5.17.5"},
	{name: "Zoom Workplace (64-bit)", publisher: "Zoom Video Communications, Inc.", version: "6.0.11 (39959)", product: "zoom", want: "6.0.11"},
	{name: "Zoom Outlook Plugin", publisher: "Zoom Video Communications, Inc.", version: "5.17.0"},
	{name: "7-Zip 23.01 (x64)", publisher: "Igor Pavlov", version: "23.01", product: "7-zip", want: "23.01"},
	{name: "7-Zip 19.00 (x64 edition)", publisher: "Igor Pavlov", version: "19.00.00.0", product: "7-zip", want: "19.00"},
	{name: "VLC media player", publisher: "VideoLAN", version: "3.0.20", product: "vlc", want: "3.0.20"},
	{name: "PuTTY release 0.80 (64-bit)", publisher: "Simon Tatham", version: "0.80.0.0", product: "putty", want: "0.80"},
	{name: "Blender", publisher: "Blender Foundation", version: "4.0.2", product: "blender", want: "4.0.2", cycle: "4.0"},
	{name: "Veeam Backup & Replication", publisher: "Veeam Software Group GmbH", version: "12.1.0.2131", product: "veeam-backup-and-replication", want: "12.1.0.2131"},
	{name: "Citrix Workspace 2311", publisher: "Citrix Systems, Inc.", version: "23.11.0.160"},
	{name: "Microsoft Teams", publisher: "Microsoft Corporation", version: "1.6.0.35961"},
}

// macApps are app bundles as /Applications holds them.
var macApps = []program{
	{name: "Firefox", bundle: "org.mozilla.firefox", version: "121.0", product: "firefox", want: "121.0"},
	{name: "Firefox ESR", bundle: "org.mozilla.firefoxesr", version: "115.6.0", product: "firefox", want: "115.6.0"},
	{name: "Thunderbird", bundle: "org.mozilla.thunderbird", version: "115.6.0", product: "thunderbird", want: "115.6.0"},
	{name: "Google Chrome", bundle: "com.google.Chrome", version: "120.0.6099.129", product: "chrome", want: "120.0.6099.129"},
	{name: "Microsoft Edge", bundle: "com.microsoft.edgemac", version: "120.0.2210.91", product: "microsoft-edge", want: "120.0.2210.91"},
	{name: "Microsoft Word", bundle: "com.microsoft.Word", version: "16.80"},
	{name: "Microsoft Excel", bundle: "com.microsoft.Excel", version: "16.80"},
	{name: "LibreOffice", bundle: "org.libreoffice.script", version: "7.6.4.1", product: "libreoffice", want: "7.6.4.1", cycle: "7.6"},
	{name: "Wireshark", bundle: "org.wireshark.Wireshark", version: "4.2.2", product: "wireshark", want: "4.2.2", cycle: "4.2"},
	{name: "VirtualBox", bundle: "org.virtualbox.app.VirtualBox", version: "7.0.12", product: "virtualbox", want: "7.0.12", cycle: "7.0"},
	{name: "IDLE", bundle: "org.python.IDLE", version: "3.12.1", product: "python", want: "3.12.1", cycle: "3.12"},
	{name: "Python Launcher", bundle: "org.python.PythonLauncher", version: "3.12.1"},
	{name: "Postgres", bundle: "com.postgresapp.Postgres2", version: "2.7.1"},
	{name: "VLC", bundle: "org.videolan.vlc", version: "3.0.20", product: "vlc", want: "3.0.20"},
	{name: "zoom.us", bundle: "us.zoom.xos", version: "5.17.5 (31030)", product: "zoom", want: "5.17.5"},
	{name: "Adobe Acrobat Reader", bundle: "com.adobe.Reader", version: "23.008.20470", product: "acrobat-reader", want: "23.008.20470"},
	{name: "IntelliJ IDEA CE", bundle: "com.jetbrains.intellij.ce", version: "2023.3.2", product: "intellij-idea", want: "2023.3.2"},
	{name: "PyCharm", bundle: "com.jetbrains.pycharm", version: "2023.3.2", product: "pycharm", want: "2023.3.2"},
	{name: "Docker", bundle: "com.docker.docker", version: "4.26.1"},
	{name: "Blender", bundle: "org.blenderfoundation.blender", version: "4.0.2", product: "blender", want: "4.0.2", cycle: "4.0"},
	{name: "Godot", bundle: "org.godotengine.godot", version: "4.2.1", product: "godot", want: "4.2.1", cycle: "4.2"},
	{name: "Visual Studio Code", bundle: "com.microsoft.VSCode", version: "1.85.1"},
}

// TestPrograms matches real-world Windows programs and macOS apps with
// the default catalog plus a catalog file of the products it lacks, and
// checks the product, the version the verdict reads and its cycle.
func TestPrograms(t *testing.T) {
	def := defaultMatcher(t)
	extra, err := catalog.Parse("programs.json", []byte(programsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	m := New(catalog.Merge(def.Catalog(), extra))
	asOf := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, set := range []struct {
		source string
		progs  []program
	}{{SourceWindows, windowsPrograms}, {SourceMacOSApp, macApps}} {
		for _, p := range set.progs {
			it := api.Item{Source: set.source, Name: p.name, Version: p.version, Publisher: p.publisher, BundleID: p.bundle}
			t.Run(set.source+"/"+strings.TrimSpace(p.name), func(t *testing.T) {
				checkMatch(t, m, it, p.product, p.want, "")
				if p.cycle != "" {
					if v := m.Catalog().Evaluate(p.product, p.want, asOf, catalog.DefaultPolicy()); v.Cycle != p.cycle {
						t.Errorf("Evaluate(%s, %q).Cycle = %q, want %q (%s)", p.product, p.want, v.Cycle, p.cycle, v.Reason)
					}
				}
				// With the default catalog, a product it lacks is no match
				// at all, never another product.
				if p.product != "" && def.Catalog().Product(p.product) == nil {
					if r, ok := def.Match(it); ok {
						t.Errorf("default catalog: Match(%q) = %s by %q, want no match (the catalog has no %s)", p.name, r.Product, r.Rule, p.product)
					}
				}
			})
		}
	}
}
