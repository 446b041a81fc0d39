"""REST API v1, by resource group. Each view validates the request, makes one service call and
answers JSON.

Imports, exports and reports go through the same services as the wizard and the export
builder; scoping and permission codes are the UI's (another organization's object is 404, a
missing permission 403).
"""
