"""The images of the notebooks and the command line (SOURCES.md says where each comes from): a package, so that
the wheel carries them (`d2lstyle.files.data_file`)."""
