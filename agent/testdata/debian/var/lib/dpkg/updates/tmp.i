Package: half
