// Placeholder: the lab page (assets/lab/lab.js) is written on its own branch.
