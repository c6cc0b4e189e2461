; Inno Setup 6 script of the MOSS installer for Windows (x64). Build the bundle first, then, from the repository root:
;     pyinstaller --noconfirm --clean packaging\moss.spec
;     iscc /DAppVersion=0.1.0 packaging\windows\moss.iss
; (/DBundle=MOSS-cuda /DVariant=cuda for the CUDA variant). The result is dist\moss-VERSION-windows-x64[-cuda]-setup.exe.
; It installs for the current user without administrator rights (or for all users, when chosen), adds a Start menu
; entry and optionally a desktop icon, and an uninstaller. .github/workflows/installers.yml builds and tests it on a
; windows-latest runner; it is not built on the Linux machines where MOSS is developed.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Bundle
  #define Bundle "MOSS"
#endif
#ifndef Variant
  #define Variant "cpu"
#endif
#if Variant == "cuda"
  #define Suffix "-cuda"
#else
  #define Suffix ""
#endif

[Setup]
; one AppId per variant: the CPU and CUDA builds install side by side
#if Variant == "cuda"
AppId={{6B0E9C52-4F3B-4C47-9C1E-5D2A7E0F3C11}
#else
AppId={{6B0E9C52-4F3B-4C47-9C1E-5D2A7E0F3C10}
#endif
AppName=MOSS{#Suffix}
AppVersion={#AppVersion}
AppVerName=MOSS{#Suffix} {#AppVersion}
AppPublisher=MOSS
AppComments=Hide a picture in the spectrogram of a piece of music
DefaultDirName={autopf}\MOSS{#Suffix}
DefaultGroupName=MOSS{#Suffix}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
LicenseFile=..\licenses\GPL-3.0.txt
SetupIconFile=..\..\resources\icons\moss.ico
UninstallDisplayIcon={app}\MOSS.exe
UninstallDisplayName=MOSS{#Suffix} {#AppVersion}
OutputDir=..\..\dist
OutputBaseFilename=moss-{#AppVersion}-windows-x64{#Suffix}-setup
; lzma2 on about 1 GB: "max" takes long on a 2-core runner for little gain; solid compression shares the dictionary
Compression=lzma2/normal
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
VersionInfoVersion={#AppVersion}
VersionInfoDescription=MOSS installer

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade replaces the whole bundle: files of an older version must not linger beside the new ones
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\MOSS{#Suffix}"; Filename: "{app}\MOSS.exe"; Comment: "Hide a picture in music"
Name: "{autodesktop}\MOSS{#Suffix}"; Filename: "{app}\MOSS.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\MOSS.exe"; Description: "{cm:LaunchProgram,MOSS}"; Flags: nowait postinstall skipifsilent
