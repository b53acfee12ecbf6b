"""The starter files of the exercises, one per rung, written out by `gradschool exercise N`."""
