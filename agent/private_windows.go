package agent

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// restrictDir replaces dir's inherited ACL with one granting full control
// to SYSTEM and Administrators only, inherited by the files in it (the node
// key), since %ProgramData% is readable by every user.
func restrictDir(dir string) error {
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)")
	if err != nil {
		return fmt.Errorf("state_dir acl: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("state_dir acl: %w", err)
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("state_dir acl: %w", err)
	}
	return nil
}
